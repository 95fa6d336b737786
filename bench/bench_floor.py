"""The floor alone: how fast an authenticated no-op answers on this machine, right now."""

from bench.harness import floor_stats, running_server


def main() -> None:
    with running_server() as server:
        print(floor_stats(server, n=300).line())


if __name__ == "__main__":
    main()
