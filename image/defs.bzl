"""The workload image's shape, from image/settings.json: its layers and its config.

workload_python_layers builds the two Python layers of an app (every locked requirement,
the kit's meinheld and server launcher; the app). LAYERS maps each layer name of
settings.json to the target giving it; workload_image builds an oci_image of such
layers, in settings.json's order, with the settings' entry point, environment, port,
user and working directory. workload_architecture gives one architecture of
debian/architectures.bzl its image and everything made of it; per_architecture names
those targets.
"""

load("@debian//:build.bzl", "BUILD_ARCHITECTURE", "PYTHON_VERSION")
load("@image_settings//:settings.bzl", "SETTINGS")
load("@pypi//:requirements.bzl", "all_requirements")
load("//debian:architectures.bzl", "ARCHITECTURES")
load("//debian:defs.bzl", "abi_check_test", "deb_layer")
load("//debian:platform.bzl", "platform_transition_filegroup")
load("//image/sbom:defs.bzl", "image_sbom")
load("//oci:defs.bzl", "oci_image")
load("//python/layers:defs.bzl", "py_compile_layer", "py_image_layer")

# The kit's server: the launcher, and its meinheld (not from PyPI: runtime/meinheld).
SERVER = "//runtime:workload_server"
SERVER_WHEELS = ["//runtime/meinheld:pkg"]

def workload_python_layers(name, app, **kwargs):
    """py_image_layer of APP with the kit's server and every locked requirement.

    Args:
      name: the target (third_party.tar, app.tar; see py_image_layer).
      app: the app's py_library.
      **kwargs: common attributes (visibility, testonly...).
    """
    py_image_layer(
        name = name,
        app = app,
        app_dir = SETTINGS["app_dir"],
        requirements = all_requirements + SERVER_WHEELS,
        site_packages = SETTINGS["site_packages"],
        deps = [SERVER],
        **kwargs
    )

LAYERS = {
    "accounts": "//image:accounts_layer",
    "app": "//image:app_layer",
    "base": "//image:base_layer",
    "third_party": "//image:third_party_layer",
}

def ordered_layers(layers = LAYERS):
    """The targets of LAYERS in settings.json's order, bottom first."""
    return [layers[name] for name in SETTINGS["layers"]]

def workload_image(name, layers = LAYERS, **kwargs):
    """An oci_image of LAYERS configured as settings.json says.

    Args:
      name: the image target.
      layers: layer name -> target (default: LAYERS; a test may swap some).
      **kwargs: other oci_image attributes (labels, visibility, testonly...).
    """
    oci_image(
        name = name,
        entrypoint = [SETTINGS["python"], "-m", SETTINGS["server_module"]],
        env = SETTINGS["env"] | {
            "PORT": str(SETTINGS["port"]),
            "PYTHONPATH": SETTINGS["app_dir"],
        },
        exposed_ports = ["%d/tcp" % SETTINGS["port"]],
        tars = ordered_layers(layers),
        user = "%d:%d" % (SETTINGS["user"]["uid"], SETTINGS["user"]["gid"]),
        workdir = SETTINGS["app_dir"],
        **kwargs
    )

def per_architecture(name, arch):
    """The name of ARCH's NAME: NAME itself on the machine Bazel runs on, else NAME_ARCH.

    Either way, NAME_ARCH names it (an alias on the build's machine).

    Args:
      name: what it is (image, sbom, base_layer...).
      arch: a key of debian/architectures.bzl's ARCHITECTURES.
    """
    return name if arch == BUILD_ARCHITECTURE else name + "_" + arch

def workload_architecture(name, sbom_locks, visibility):
    """One architecture's image (NAME_ARCH names each, see per_architecture).

    image: the workload image, its layers those of LAYERS built for ARCH: the base of
    ARCH's Debian packages (debian_layer: the lock's "image" set merged into one tar,
    merged /usr, no docs but copyright files, C.UTF-8 only, with the CA bundle, the
    python3 link and a dpkg status file per package) with its bytecode (base_layer), the
    Python layers built for
    //debian:linux_ARCH (third_party_layer, app_layer; wheels, its wheels);
    image_abi_test: every ELF file of the image built for its CPU, finding its libraries
    inside the image, needing no glibc newer than the image's; sbom: its SPDX bill of
    materials (sbom.spdx.json, sbom_ARCH.spdx.json).

    Args:
      name: the architecture, a key of debian/architectures.bzl's ARCHITECTURES.
      sbom_locks: the source locks the SBOM lists (e.g. the kit's meinheld's).
      visibility: of the image, its layers and its SBOM.
    """
    arch = name
    debian = "@debian//%s:" % arch
    deb_layer(
        name = per_architecture("debian_layer", arch),
        ca_bundle = SETTINGS["env"]["SSL_CERT_FILE"].lstrip("/"),
        debs = [debian + "image_debs"],
        dirs = [SETTINGS["site_packages"]],
        filter = "//debian:image_filter.json",
        symlinks = {SETTINGS["python"].lstrip("/"): "python" + PYTHON_VERSION},
        visibility = visibility,
    )
    py_compile_layer(
        name = per_architecture("base_layer", arch),
        src = ":" + per_architecture("debian_layer", arch),
        visibility = visibility,
    )
    if arch != BUILD_ARCHITECTURE:
        for target in ("third_party_layer", "app_layer", "wheels"):
            platform_transition_filegroup(
                name = per_architecture(target, arch),
                srcs = [":" + target],
                target_platform = "//debian:linux_" + arch,
                visibility = visibility,
            )
    layers = LAYERS | {layer: ":" + per_architecture(layer + "_layer", arch) for layer in ("app", "base", "third_party")}
    workload_image(
        name = per_architecture("image", arch),
        architecture = arch,
        labels = ":version_labels",
        layers = layers,
        visibility = visibility,
    )
    abi_check_test(
        name = per_architecture("image", arch) + "_abi_test",
        size = "small",
        architecture = arch,
        debs = [debian + "all_debs"],
        layers = ordered_layers(layers),
    )
    image_sbom(
        name = per_architecture("sbom", arch),
        debs = [debian + "image_debs"],
        lock = debian + "lock.json",
        requirements_lock = "//:requirements_lock.txt",
        source_locks = sbom_locks,
        visibility = visibility,
        wheels = [":" + per_architecture("wheels", arch)],
    )
    if arch == BUILD_ARCHITECTURE:
        for target in ("debian_layer", "base_layer", "third_party_layer", "app_layer", "wheels", "image", "sbom"):
            native.alias(
                name = target + "_" + arch,
                actual = ":" + target,
                visibility = visibility,
            )

def per_architecture_env(variable, target):
    """What a test needs to read each architecture's TARGET: (data, env).

    env sets VARIABLE to `ARCH=PATH ...` in debian/architectures.bzl's order
    (image/tests/image_layout.py's per_architecture reads it), and BUILD_ARCHITECTURE.

    Args:
      variable: the environment variable.
      target: the target's name in //image (image, sbom...): //image:TARGET_ARCH.
    """
    labels = {arch: "//image:%s_%s" % (target, arch) for arch in ARCHITECTURES}
    paths = " ".join(["%s=$(rootpath %s)" % (arch, label) for arch, label in labels.items()])
    return labels.values(), {"BUILD_ARCHITECTURE": BUILD_ARCHITECTURE, variable: paths}
