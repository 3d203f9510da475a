"""One build step pyproject.toml cannot say: the pages' JavaScript client goes into the package.

Parley's pages load the npm package ``parley-client`` from ``static/parley/client/``. Its modules
live in ``clients/js/src`` (the package's source, tested there), outside ``parley/``, so a build
copies them into the build's ``parley/static/parley/client/``: the wheel, and a wheel built from
the sdist (MANIFEST.in puts ``clients/js/src`` in it), serve the package as it is, and no copy is
kept in the repository. In a checkout (``make run``, the tests) the example project's
``STATICFILES_DIRS`` serves ``clients/js/src`` under the same prefix.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CLIENT_SOURCE = ROOT / "clients" / "js" / "src"
CLIENT_TARGET = ("parley", "static", "parley", "client")


class BuildPyWithClient(build_py):
    """``build_py`` that also copies ``clients/js/src/*.js`` to ``parley/static/parley/client/``."""

    def client_modules(self) -> dict[str, str]:
        """Where each module of the JavaScript client goes in the build, and where it comes from."""
        modules = sorted(CLIENT_SOURCE.glob("*.js"))
        if not modules:
            raise RuntimeError(f"{CLIENT_SOURCE} has no JavaScript modules: the pages' client would be missing")
        target = Path(self.build_lib, *CLIENT_TARGET)
        return {str(target / module.name): str(module) for module in modules}

    def build_package_data(self) -> None:
        super().build_package_data()
        for target, source in self.client_modules().items():
            self.mkpath(str(Path(target).parent))
            self.copy_file(source, target)

    def get_output_mapping(self) -> dict[str, str]:
        return {**super().get_output_mapping(), **self.client_modules()}

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        return outputs + [target for target in self.client_modules() if target not in outputs]


setup(cmdclass={"build_py": BuildPyWithClient})
