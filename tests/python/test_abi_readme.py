"""Runs the Python example of engine/abi/README.md (wasmtime-py) from the repository root
and checks every value it prints against the `# …` comment on its line.

    python tests/python/test_abi_readme.py
"""
import contextlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def main() -> int:
    text = (ROOT / "engine/abi/README.md").read_text()
    block = re.search(r"### Python \(`pip install wasmtime`\).*?```python\n(.*?)```", text, re.S)
    if not block:
        print("FAIL: no Python example in engine/abi/README.md")
        return 1
    code = block.group(1)
    expected = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.+)$", code, re.M)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "engine/abi/README.md", "exec"), {"__name__": "readme"})
    printed = out.getvalue().split()
    if not expected or printed != expected:
        print(f"FAIL: the README's Python example printed {printed}, its comments say {expected}")
        return 1
    print(f"ok: engine/abi/README.md's Python example prints {printed}")
    return 0


if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    sys.exit(main())
