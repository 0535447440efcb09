"""The workload image's shape, from image/settings.json: its layers and its config.

workload_python_layers builds the two Python layers of an app (every locked requirement,
the kit's meinheld and server launcher; the app). LAYERS maps each layer name of
settings.json to the target giving it; workload_image builds an oci_image of such
layers, in settings.json's order, with the settings' entry point, environment, port,
user and working directory.
"""

load("@image_settings//:settings.bzl", "SETTINGS")
load("@pypi//:requirements.bzl", "all_requirements")
load("//oci:defs.bzl", "oci_image")
load("//python/layers:defs.bzl", "py_image_layer")

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
    "accounts": "//debian:config_layer",
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
