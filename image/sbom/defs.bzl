"""The image's SPDX 2.3 software bill of materials as a build output."""

def _image_sbom_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    args = ctx.actions.args()
    args.add("--out", out)
    args.add("--name", ctx.attr.document_name or ctx.label.name)
    args.add("--lock", ctx.file.lock)
    args.add_all(ctx.attr.sets, before_each = "--set")
    args.add_all(ctx.files.debs, before_each = "--deb")
    inputs = [ctx.file.lock] + ctx.files.debs + ctx.files.wheels
    if ctx.file.requirements_lock:
        args.add("--requirements", ctx.file.requirements_lock)
        inputs.append(ctx.file.requirements_lock)
    args.add_all(ctx.files.wheels, before_each = "--wheel")
    args.add_all(ctx.files.source_locks, before_each = "--source-lock")
    inputs += ctx.files.source_locks
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "ImageSbom",
        progress_message = "Writing SBOM %{output}",
    )
    return [DefaultInfo(files = depset([out]))]

image_sbom = rule(
    implementation = _image_sbom_impl,
    doc = """SPDX 2.3 JSON of every locked .deb in `sets` and every wheel, with licences and sha256.

Example: image_sbom(name = "sbom", lock = "@debian//:lock.json", debs = ["@debian//:image_debs"],
requirements_lock = "//:requirements_lock.txt", wheels = ["//image:wheels"]).""",
    attrs = {
        "lock": attr.label(allow_single_file = [".json"], mandatory = True, doc = "The Debian lock."),
        "sets": attr.string_list(default = ["image"], doc = "Lock sets the image holds."),
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True, doc = "The .debs of those sets."),
        "requirements_lock": attr.label(allow_single_file = True, doc = "Hash-locked requirements file."),
        "wheels": attr.label_list(allow_files = [".whl"], doc = "The wheels installed in the image."),
        "source_locks": attr.label_list(allow_files = [".json"], doc = "Packages the kit builds from a source archive with its patches (e.g. runtime/meinheld/source.json)."),
        "document_name": attr.string(doc = "The SPDX document's name (default: the target's name)."),
        "_tool": attr.label(default = "//image/sbom:sbom", executable = True, cfg = "exec"),
    },
)
