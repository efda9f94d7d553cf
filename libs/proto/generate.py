"""Regenerate libs/proto/src from proto/ (run: python libs/proto/generate.py [--check]).

`--check` regenerates into a temporary folder and fails if the committed code differs.
"""
from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
OUT = ROOT / "libs" / "proto" / "src"


def generate(out: Path) -> None:
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(["grpc_tools.protoc", f"-I{PROTO}", f"-I{include}", f"--python_out={out}",
                        f"--pyi_out={out}", f"--grpc_python_out={out}", *files])
    if code != 0:
        raise SystemExit(f"protoc failed ({code})")
    for folder in [p for p in out.rglob("*") if p.is_dir()] + [out / "taquilla"]:
        (folder / "__init__.py").touch()


def differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    found = [f"{a}/{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files]
    for sub in cmp.common_dirs:
        found += differences(a / sub, b / sub)
    return found


def main() -> None:
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            diff = differences(Path(tmp) / "taquilla", OUT / "taquilla")
        if diff:
            raise SystemExit("generated gRPC code is stale; run python libs/proto/generate.py:\n" + "\n".join(diff))
        print("generated gRPC code is up to date")
        return
    shutil.rmtree(OUT / "taquilla", ignore_errors=True)
    generate(OUT)
    print(f"generated into {OUT}")


if __name__ == "__main__":
    main()
