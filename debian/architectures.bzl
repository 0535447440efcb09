"""The architectures the kit builds images for: one table, and what is derived from it.

Adding an architecture is one entry here plus its pins: its packages in
debian/packages.json (./bazelw run //debian:lock), its cross compiler and qemu in
buildroot/packages.txt. Every per-architecture repository (image/repositories.bzl) and
target (image/defs.bzl's workload_architecture) comes from this table, and the Python
tools read it as //debian/tools:architectures_py.
"""

ARCHITECTURES = {
    # Debian's name: its multiarch triplet (library directory, gcc prefix), its dynamic
    # loader, Bazel's name of the CPU (as in @platforms//cpu and repository_ctx.os.arch),
    # the kernel's (uname -m: Python's platform_machine, qemu-MACHINE) and its ELF
    # machine type (e_machine).
    "amd64": struct(triplet = "x86_64-linux-gnu", loader = "ld-linux-x86-64.so.2", bazel_cpu = "x86_64", machine = "x86_64", elf_machine = 62),
    "arm64": struct(triplet = "aarch64-linux-gnu", loader = "ld-linux-aarch64.so.1", bazel_cpu = "aarch64", machine = "aarch64", elf_machine = 183),
}

def build_architecture(os_arch):
    """The table's name of the machine Bazel runs on.

    Args:
      os_arch: repository_ctx.os.arch or module_ctx.os.arch.

    Returns:
      The key of ARCHITECTURES.
    """
    for name, arch in ARCHITECTURES.items():
        if os_arch in (name, arch.bazel_cpu, arch.machine):
            return name
    fail("this machine's CPU (%s) is none of debian/architectures.bzl's (%s): add it there" % (os_arch, ", ".join(ARCHITECTURES)))

def cpu_alias(name, actual_by_architecture):
    """BUILD text of an alias NAME selecting, by the target platform's CPU, one architecture's target.

    Args:
      name: the alias's name.
      actual_by_architecture: key of ARCHITECTURES -> label of that architecture's target.

    Returns:
      The text of the alias rule.
    """
    branches = "".join([
        "        \"@platforms//cpu:%s\": \"%s\",\n" % (ARCHITECTURES[arch].bazel_cpu, actual_by_architecture[arch])
        for arch in sorted(actual_by_architecture)
    ])
    return "alias(\n    name = \"%s\",\n    actual = select({\n%s    }),\n    visibility = [\"//visibility:public\"],\n)\n" % (name, branches)
