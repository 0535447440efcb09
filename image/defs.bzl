"""The workload image's shape, from image/settings.json: its layers and its config.

LAYERS maps each layer name of settings.json to the target giving it; workload_image
builds an oci_image of such layers, in settings.json's order, with the settings' entry
point, environment, port, user and working directory.
"""

load("@image_settings//:settings.bzl", "SETTINGS")
load("//oci:defs.bzl", "oci_image")

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
