// Pages that work for keyboard and screen-reader users and on narrow screens (templates/base.html
// loads this on every page).
//
// 1. Focus after a swap. After a swap that a person caused (a click or a submit; never a poll, a
// page load or typing in a live preview), the focus moves to the result: the last element
// matching the trigger's `data-focus-last` selector (the builder's "+ Recurring credit" focuses
// the new row), else what headingOf picks in the swapped region. A heading or region that is not
// focusable gets tabindex="-1" so that it takes the focus without joining the tab order.
(function () {
  "use strict";

  function focusable(element) {
    if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: false });
  }

  // What a person wants to read first in a swapped region: its [data-focus] element, else the
  // errors of a refused submit (the summary, else the first invalid field), else its first heading.
  function headingOf(region) {
    if (!region) return null;
    if (region.matches("[data-focus], h1, h2, h3, h4")) return region;
    return (
      region.querySelector("[data-focus]") ||
      region.querySelector(".errorsummary") ||
      region.querySelector('[aria-invalid="true"]') ||
      region.querySelector("h1, h2, h3, h4")
    );
  }

  // 2. Wide tables. A table wider than the page (at 800 px: many columns, ISO timestamps) scrolls
  // inside a region of its own instead of making the whole page scroll sideways; the region is a
  // keyboard stop (tabindex="0") named after the table, so it can be scrolled without a mouse.
  function fitTables(root) {
    const scope = root && root.querySelectorAll ? root : document;
    for (const table of scope.querySelectorAll("main table")) {
      const parent = table.parentElement;
      if (parent.classList.contains("table-scroll")) continue;
      if (table.scrollWidth <= parent.clientWidth + 1) continue;
      const region = document.createElement("div");
      region.className = "table-scroll";
      region.setAttribute("tabindex", "0");
      region.setAttribute("role", "region");
      const caption = table.caption && table.caption.textContent.trim();
      const heading = !caption && table.closest("section, main").querySelector("h1, h2");
      region.setAttribute("aria-label", caption || (heading ? heading.textContent.trim() : "Table") + " (scrolls sideways)");
      parent.insertBefore(region, table);
      region.appendChild(table);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { fitTables(document); });
  document.addEventListener("htmx:load", function (event) { fitTables(event.detail.elt.parentElement || document); });

  document.addEventListener("htmx:afterSettle", function (event) {
    const config = event.detail.requestConfig || {};
    const cause = config.triggeringEvent && config.triggeringEvent.type;
    if (cause !== "click" && cause !== "submit") return;
    const trigger = config.elt;
    const wanted = trigger && trigger.getAttribute && trigger.getAttribute("data-focus-last");
    if (wanted) {
      const matches = document.querySelectorAll(wanted);
      if (matches.length) {
        const last = matches[matches.length - 1];
        focusable(headingOf(last) || last.querySelector("input, select, textarea") || last);
        return;
      }
    }
    const region = event.detail.elt && event.detail.elt.isConnected ? event.detail.elt : event.detail.target;
    if (!region || !region.isConnected) return;
    const target = headingOf(region);
    if (target) {
      focusable(target);
    } else if (!document.activeElement || document.activeElement === document.body) {
      focusable(region); // the focused control was swapped away: keep the place
    }
  });
})();
