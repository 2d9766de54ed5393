"""Build the optional compiled fast path of ``modelyard.drift`` (bin counting).

The extension is optional: where it cannot be compiled (no C compiler, an unusual platform) the
install goes on without it, and modelyard counts with NumPy instead, with the same results.
Set ``MODELYARD_NO_EXTENSIONS=1`` to skip it on purpose. All other metadata is in pyproject.toml.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    """Optimise for speed with GCC-compatible compilers; other compilers keep their defaults."""

    def build_extension(self, ext: Extension) -> None:
        if self.compiler.compiler_type == "unix":
            ext.extra_compile_args = [*ext.extra_compile_args, "-O3", "-Wno-psabi"]
        super().build_extension(ext)


extensions = []
if os.environ.get("MODELYARD_NO_EXTENSIONS", "") in ("", "0"):
    extensions.append(
        Extension(
            "modelyard.drift._native",
            sources=["src/modelyard/drift/_native.c"],
            optional=True,
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": BuildExt})
