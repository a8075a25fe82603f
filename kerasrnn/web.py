"""`python -m kerasrnn.web`: word completion in your browser, with the exported models on LiteRT.js.

Examples:
    python -m kerasrnn.web                          # then open the printed http://127.0.0.1:8000/
    python -m kerasrnn.web --port 0                 # any free port
    python -m kerasrnn.web --models my_exports      # folders written by python -m kerasrnn.export
    python -m kerasrnn.web --host 0.0.0.0           # also serve other machines (only when given explicitly)

Serves the page in web/, the LiteRT.js runtime that `cd web && npm ci` installed (nothing is installed
at run time) and the batch-1 web files of the exports, on 127.0.0.1 only unless --host is on the command
line. The model runs in the browser; nothing typed leaves the machine. Ctrl-C stops the server.
It serves only the files listed there (regular files, no link out of their folder) and answers only
requests addressed to it by localhost or an IP address (docs/browser-server.md).
The work is in `kerasrnn.ondevice.web_server`.
"""

from __future__ import annotations

import sys

from kerasrnn.core import cli, deps


def build_parser() -> cli.ArgumentParser:
    p = cli.parser("kerasrnn.web", __doc__.splitlines()[0])
    p.add_argument("--port", type=cli.Range(int, 0, 65535), default=8000, help="port to listen on (0: any free port)")
    p.add_argument("--models", type=cli.utf8, default="exported",
                   help="folder of exports (each with manifest.json and web files)")
    p.add_argument("--host", type=cli.utf8, default=None,
                   help="address to listen on (None: 127.0.0.1); any non-loopback address must be given here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        cli.check_packages("numpy", prog="kerasrnn.web")  # the server reads the exports' manifests with kerasrnn.ondevice
        from kerasrnn.ondevice.web_server import make_server

        explicit = args.host is not None  # --host on the command line: the only way to serve other machines
        server = make_server(args.models, args.port, args.host or "127.0.0.1", allow_remote=explicit)
        if not server.is_loopback:
            print(f"kerasrnn.web: serving on {args.host}: other machines can open the page", file=sys.stderr)
        index = server.index()
        for s in index["skipped"]:
            print(f"  skipped {s['name']}: {s['reason']}", file=sys.stderr)
        if not index["models"]:
            server.server_close()
            raise cli.UsageError(f"no export in {args.models} has web files: export one with python -m kerasrnn.export")
        print(f"models: {', '.join(m['name'] for m in index['models'])}")
        print(f"open {server.url}  (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
        finally:
            server.server_close()
        return 0

    return cli.run(body, "kerasrnn.web")


if __name__ == "__main__":
    sys.exit(main())
