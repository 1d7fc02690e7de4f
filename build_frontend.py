"""The build step that bundles js/ into dezero_widget/static/widget.js (hatch-jupyter-builder
calls `build`). Installing from a source checkout runs it; an sdist or wheel already carries
the bundle, so installing those needs no Node.js at all."""

import shutil


def build(target_name: str, version: str, **kwargs) -> None:
    if shutil.which("npm") is None:
        raise SystemExit(
            "dezero_widget: building the widget's front end from source needs Node.js 20 or newer "
            "and npm on the PATH (Debian/Ubuntu: apt-get install nodejs npm); "
            "or install a released wheel or sdist, which carry the built front end."
        )
    from hatch_jupyter_builder import npm_builder  # present in the build environment only

    npm_builder(target_name, version, **kwargs)
