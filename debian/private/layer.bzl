"""Rules turning locked Debian packages and account data into reproducible tar layers."""

def _deb_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add("--filter", ctx.file.filter)
    for path, target in sorted(ctx.attr.symlinks.items()):
        args.add("--symlink", "%s=%s" % (path, target))
    args.add_all(ctx.attr.dirs, before_each = "--dir")
    if ctx.attr.ca_bundle:
        args.add("--ca-bundle", ctx.attr.ca_bundle)
    args.add_all(ctx.files.debs)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = ctx.files.debs + [ctx.file.filter],
        outputs = [out],
        mnemonic = "DebLayer",
        progress_message = "Merging %d Debian packages into %%{output}" % len(ctx.files.debs),
    )
    return [DefaultInfo(files = depset([out]))]

deb_layer = rule(
    implementation = _deb_layer_impl,
    doc = """Merges .deb files into one uncompressed, reproducible tar layer (merged /usr,
owner 0:0, mtime 0, normalised modes, no documentation but copyright files), with a
dpkg status file per package under /var/lib/dpkg/status.d/.""",
    attrs = {
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True, doc = "The packages, in lock order."),
        "filter": attr.label(allow_single_file = [".json"], mandatory = True, doc = "What to leave out (see //debian:image_filter.json)."),
        "symlinks": attr.string_dict(doc = "Links a maintainer script would make: path -> target."),
        "dirs": attr.string_list(doc = "Empty directories to add."),
        "ca_bundle": attr.string(doc = "Where to write the CA bundle built from the packages' Mozilla certificates; empty for none."),
        "_tool": attr.label(default = "//debian/tools:deb_layer", executable = True, cfg = "exec"),
    },
)

def _config_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add_all(ctx.attr.users, before_each = "--user")
    for target, path in sorted(ctx.attr.files.items(), key = lambda item: item[1]):
        args.add("--file", "%s=%s" % (path, target.files.to_list()[0].path))
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = ctx.files.files,
        outputs = [out],
        mnemonic = "ConfigLayer",
        progress_message = "Writing accounts layer %{output}",
    )
    return [DefaultInfo(files = depset([out]))]

config_layer = rule(
    implementation = _config_layer_impl,
    doc = "Writes /etc/passwd, /etc/group, the users' home directories and extra files as a tar layer.",
    attrs = {
        "users": attr.string_list(mandatory = True, doc = "Accounts as NAME:UID:GID:/HOME, in passwd order."),
        "files": attr.label_keyed_string_dict(allow_files = True, doc = "Single files -> their path in the image."),
        "_tool": attr.label(default = "//debian/tools:config_layer", executable = True, cfg = "exec"),
    },
)
