"""Public API of the oci/ module: rules_oci 2.x names and attribute meanings.

Load with `load("//oci:defs.bzl", "oci_image", "oci_image_index", "oci_load", "oci_push")`
(and `cosign_sign`, `cosign_attest`). See README.md for what matches upstream rules_oci
and what differs.
"""

load("//oci/private:cosign_attest.bzl", _cosign_attest_rule = "cosign_attest_rule")
load("//oci/private:cosign_sign.bzl", _cosign_sign_rule = "cosign_sign_rule")
load("//oci/private:image.bzl", _oci_image_rule = "oci_image_rule")
load("//oci/private:image_index.bzl", _oci_image_index_rule = "oci_image_index_rule")
load("//oci/private:lines_file.bzl", "lines_file")
load("//oci/private:load.bzl", _oci_load_rule = "oci_load_rule")
load("//oci/private:push.bzl", _oci_push_rule = "oci_push_rule")

oci_image_rule = _oci_image_rule
oci_image_index = _oci_image_index_rule
oci_load_rule = _oci_load_rule
oci_push_rule = _oci_push_rule
cosign_sign = _cosign_sign_rule
cosign_attest = _cosign_attest_rule

def _as_file(name, attribute, value, kwargs):
    """Returns VALUE as a label of a file: a dict or list becomes a generated lines file."""
    if type(value) == "dict":
        lines = ["%s=%s" % (key, value[key]) for key in value]
    elif type(value) == "list":
        lines = value
    else:
        return value
    target = "%s_%s" % (name, attribute)
    lines_file(
        name = target,
        lines = lines,
        tags = kwargs.get("tags"),
        testonly = kwargs.get("testonly"),
        visibility = ["//visibility:private"],
    )
    return ":" + target

def oci_image(name, env = None, labels = None, annotations = None, **kwargs):
    """Builds an OCI image layout directory. See oci_image_rule for every attribute.

    Args:
      name: name of the image target.
      env: dict of environment variables, or a label of a file of `KEY=VALUE` lines.
      labels: dict of config labels, or a label of a file of `KEY=VALUE` lines.
      annotations: dict of manifest annotations, or a label of a file of `KEY=VALUE` lines.
      **kwargs: the other attributes of oci_image_rule (base, tars, entrypoint, cmd, user,
        workdir, exposed_ports, volumes, created, os, architecture, variant) and common ones.
    """
    _oci_image_rule(
        name = name,
        env = _as_file(name, "env", env, kwargs),
        labels = _as_file(name, "labels", labels, kwargs),
        annotations = _as_file(name, "annotations", annotations, kwargs),
        **kwargs
    )

def oci_push(name, remote_tags = None, **kwargs):
    """An executable pushing an image to a registry. See oci_push_rule for every attribute.

    Args:
      name: name of the push target (`bazel run` it).
      remote_tags: list of tags, or a label of a file of tags one per line.
      **kwargs: the other attributes of oci_push_rule (image, repository, repository_file,
        signers).
    """
    _oci_push_rule(name = name, remote_tags = _as_file(name, "remote_tags", remote_tags, kwargs), **kwargs)

def oci_load(name, repo_tags = None, **kwargs):
    """An executable loading an image into podman or docker. See oci_load_rule.

    Args:
      name: name of the load target (`bazel run` it; output group `tarball`).
      repo_tags: list of `REPOSITORY:TAG`, or a label of a file of them one per line.
      **kwargs: the other attributes of oci_load_rule (image).
    """
    _oci_load_rule(name = name, repo_tags = _as_file(name, "repo_tags", repo_tags, kwargs), **kwargs)
