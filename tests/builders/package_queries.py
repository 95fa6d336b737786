"""Query pins for reading packages, shared by the query and wire tests (a helper module, not a
test module)."""

# token, then the package's stored response with its aliases as one JSON text
GET_QUERIES = 2
# the same for a page of any size (one keyset query returns every package's JSON text)
LIST_PAGE_QUERIES = 2
