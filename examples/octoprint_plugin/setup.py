"""OctoPrint-PrusaConnect, installed into OctoPrint's Python environment:

    pip install ./examples/octoprint_plugin    (docs/octoprint-plugin.md)

It needs the `prusaconnect` module (libprusaconnect's Python bindings,
built from this repository) in the same environment.
"""
from setuptools import setup

setup(
    name="OctoPrint-PrusaConnect",
    version="0.1.0",
    description="Puts the printer OctoPrint manages into Prusa Connect",
    author="The libprusaconnect Authors",
    license="LGPL-2.1-or-later",
    packages=["octoprint_prusaconnect"],
    include_package_data=True,
    package_data={"octoprint_prusaconnect": ["templates/*.jinja2", "static/js/*.js",
                                              "static/css/*.css"]},
    python_requires=">=3.7,<4",
    install_requires=["OctoPrint>=1.9"],
    extras_require={"qr": ["qrcode"]},
    entry_points={"octoprint.plugin": ["prusaconnect = octoprint_prusaconnect"]},
    zip_safe=False,
)
