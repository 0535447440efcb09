"""oci_image_rule: builds an OCI image layout directory (rules_oci 2.x compatible)."""

_DOC = """Builds an OCI image as a directory in the OCI image layout format
(`oci-layout`, `index.json`, `blobs/sha256/`).

Each file of `tars` becomes one gzip-compressed layer, in the order given, on top of the
layers of `base`. The output is reproducible: layers are compressed with mtime 0, no file
name and a fixed level; `created` defaults to 1970-01-01T00:00:00Z; JSON is written with
sorted keys.

Most users should call the `oci_image` macro of `//oci:defs.bzl`, which also accepts
dicts for `env`, `labels` and `annotations`.
"""

def _history_name(target, file):
    """Names a layer's source in the config history.

    That is the label of the target giving it (without repository prefix), plus the
    file's name if the target gives several.
    """
    label = str(target.label)
    label = label[2:] if label.startswith("@@//") else label
    return label if len(target.files.to_list()) == 1 else "%s %s" % (label, file.basename)

def _oci_image_impl(ctx):
    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add("--output", output.path)
    inputs = []
    if ctx.file.base:
        args.add("--base", ctx.file.base.path)
        inputs.append(ctx.file.base)
    for target in ctx.attr.tars:
        for tar in target.files.to_list():
            args.add("--layer").add(tar).add(_history_name(target, tar))
            inputs.append(tar)
    if ctx.attr.entrypoint:
        args.add("--entrypoint", json.encode(ctx.attr.entrypoint))
    if ctx.attr.cmd:
        args.add("--cmd", json.encode(ctx.attr.cmd))
    for flag, file in [
        ("--env-file", ctx.file.env),
        ("--labels-file", ctx.file.labels),
        ("--annotations-file", ctx.file.annotations),
        ("--created-file", ctx.file.created),
    ]:
        if file:
            args.add(flag, file)
            inputs.append(file)
    for flag, value in [
        ("--user", ctx.attr.user),
        ("--workdir", ctx.attr.workdir),
        ("--os", ctx.attr.os),
        ("--architecture", ctx.attr.architecture),
        ("--variant", ctx.attr.variant),
    ]:
        if value:
            args.add(flag, value)
    args.add_all(ctx.attr.exposed_ports, before_each = "--exposed-port")
    args.add_all(ctx.attr.volumes, before_each = "--volume")
    ctx.actions.run(
        executable = ctx.executable._build_image,
        arguments = [args],
        inputs = inputs,
        outputs = [output],
        mnemonic = "OciImage",
        progress_message = "Building OCI image %{label}",
    )
    return [DefaultInfo(files = depset([output]))]

oci_image_rule = rule(
    implementation = _oci_image_impl,
    doc = _DOC,
    attrs = {
        "base": attr.label(
            allow_single_file = True,
            doc = "An `oci_image` (or any OCI layout directory holding exactly one image manifest) " +
                  "whose layers and config this image starts from. Absent: start from scratch.",
        ),
        "tars": attr.label_list(
            allow_files = [".tar"],
            doc = "Uncompressed tar files, each becoming one layer, in this order (do not sort: " +
                  "put what changes least first; a target giving several tars gives them in " +
                  "its own order). The layer's diff_id is the sha256 of the tar.",
        ),
        "entrypoint": attr.string_list(
            doc = "Config `Entrypoint`. Setting it clears the `Cmd` inherited from `base`. " +
                  "Empty: inherit the base's.",
        ),
        "cmd": attr.string_list(doc = "Config `Cmd`. Empty: inherit (unless `entrypoint` is set)."),
        "env": attr.label(
            allow_single_file = True,
            doc = "File of `KEY=VALUE` lines merged over the base's `Env` by key; `$VAR` and " +
                  "`${VAR}` expand to the base's value. The macro also takes a dict.",
        ),
        "labels": attr.label(
            allow_single_file = True,
            doc = "File of `KEY=VALUE` lines merged over the base's config `Labels`. The macro " +
                  "also takes a dict; a file produced at build time can carry stamped values.",
        ),
        "annotations": attr.label(
            allow_single_file = True,
            doc = "File of `KEY=VALUE` lines: the manifest's `annotations`. An " +
                  "`org.opencontainers.image.ref.name` entry is also put on the manifest's " +
                  "entry in `index.json` (umoci and `oci-image-tool --ref name=` look there). " +
                  "The macro also takes a dict.",
        ),
        "user": attr.string(doc = "Config `User`, e.g. `1000:1000`. Empty: inherit."),
        "workdir": attr.string(doc = "Config `WorkingDir`. Empty: inherit."),
        "exposed_ports": attr.string_list(
            doc = "Ports added to config `ExposedPorts`, as `PORT` or `PORT/tcp|udp|sctp` " +
                  "(`8080` means `8080/tcp`).",
        ),
        "volumes": attr.string_list(doc = "Paths added to config `Volumes`."),
        "created": attr.label(
            allow_single_file = True,
            doc = "File holding the creation time (RFC 3339, e.g. `2024-01-02T03:04:05Z`), used " +
                  "for config `created` and the new history entries. Absent: " +
                  "`1970-01-01T00:00:00Z`.",
        ),
        "os": attr.string(doc = "Config `os`. Empty: the base's, else `linux`."),
        "architecture": attr.string(doc = "Config `architecture`. Empty: the base's, else `amd64`."),
        "variant": attr.string(doc = "Config `variant` (e.g. `v8`). Empty: inherit."),
        "_build_image": attr.label(
            default = Label("//oci/private:build_image"),
            executable = True,
            cfg = "exec",
        ),
    },
)
