"""The Debian architectures the lock may hold, with what the build needs to know of each.

One source: debian_packages (repositories.bzl), the pypi extension (python/pypi) and the
platforms of debian/BUILD.bazel read it, and
//debian/tests:architectures_test checks the ABI check's table (debian/tools/elf.py)
against it.
"""

ARCHITECTURES = {
    # Debian's name: its multiarch triplet (library directory, gcc prefix), its dynamic
    # loader, Bazel's name of the CPU (as in @platforms//cpu and repository_ctx.os.arch)
    # and its ELF machine type (e_machine).
    "amd64": struct(triplet = "x86_64-linux-gnu", loader = "ld-linux-x86-64.so.2", bazel_cpu = "x86_64", elf_machine = 62),
    "arm64": struct(triplet = "aarch64-linux-gnu", loader = "ld-linux-aarch64.so.1", bazel_cpu = "aarch64", elf_machine = 183),
}
