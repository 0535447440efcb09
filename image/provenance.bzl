"""slsa_provenance: the SLSA provenance predicate of an image, for cosign_attest."""

def _slsa_provenance_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".json")
    args = ctx.actions.args()
    args.add("--status", ctx.info_file)
    args.add("--target", "//%s:%s" % (ctx.attr.image.label.package, ctx.attr.image.label.name))
    for lock in ctx.files.locks:
        args.add("--lock", "%s=%s" % (lock.short_path, lock.path))
    args.add("--output", out)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = [ctx.info_file] + ctx.files.locks,
        outputs = [out],
        mnemonic = "SlsaProvenance",
        progress_message = "Writing the provenance of %s" % ctx.attr.image.label,
    )
    return [DefaultInfo(files = depset([out]))]

slsa_provenance = rule(
    implementation = _slsa_provenance_impl,
    doc = """Writes `NAME.json`, a SLSA provenance v1 predicate (image/provenance.py) for `image`.

It names the commit, the remote and the build root from Bazel's stable workspace status
(image/status.sh: read whether or not --stamp is given, so a new commit makes a new
predicate while the image itself stays byte-identical), and each lock with its sha256.""",
    attrs = {
        "image": attr.label(
            mandatory = True,
            doc = "What was built (only its label is written: the attestation's subject is its pushed digest).",
        ),
        "locks": attr.label_list(
            allow_files = True,
            mandatory = True,
            doc = "The lock files the build resolved its inputs from (those MODULE.bazel names).",
        ),
        "_tool": attr.label(
            default = Label("//image:provenance_tool"),
            executable = True,
            cfg = "exec",
        ),
    },
)
