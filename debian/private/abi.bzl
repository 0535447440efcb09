"""A test that every ELF file of an image's layers loads against the image itself."""

load("@rules_python//python:defs.bzl", "py_test")

def abi_check_test(name, layers, only = [], debs = [], architecture = "amd64", **kwargs):
    """Fails if an ELF file in layers lacks a library, its interpreter or a symbol version.

    Args:
      name: the test's name.
      layers: the image's layers (tar files or directories), bottom first.
      only: check only ELF files below these image paths (libraries still resolve in
        every layer), e.g. ["/usr/lib/python3/dist-packages"].
      debs: .deb files that may ship a missing library, so a failure can name the package
        to add (e.g. every locked package, @debian//:all_debs).
      architecture: the image's Debian architecture (amd64, arm64): every ELF file must be
        built for it.
      **kwargs: passed to py_test (tags, size...).
    """
    py_test(
        name = name,
        srcs = ["//debian/tools:abi_check.py"],
        main = "//debian/tools:abi_check.py",
        args = ["--architecture=" + architecture] + ["$(rootpaths %s)" % layer for layer in layers] +
               ["--only=%s" % path for path in only] +
               (["--deb"] + ["$(rootpaths %s)" % deb for deb in debs] if debs else []),
        data = layers + debs,
        deps = [
            "//debian/tools:debfile",
            "//debian/tools:elf",
        ],
        **kwargs
    )
