"""oci_image_index_rule: an OCI image index over images of several platforms (rules_oci 2.x compatible)."""

_DOC = """Builds an OCI image layout directory holding one image index over `images`.

The index lists each image's manifest, in the order given, with the platform (os,
architecture, variant) its config names; every blob of every image is in the layout,
each once. The layout's `index.json` lists the index itself (as `skopeo copy --all`
writes a multi-platform image). Two images of the same platform are an error. The
output is reproducible: the same images give the same index digest.

`oci_push` pushes such a layout whole: the images by digest, then the index under each tag.
"""

def _oci_image_index_impl(ctx):
    output = ctx.actions.declare_directory(ctx.label.name)
    args = ctx.actions.args()
    args.add("--output", output.path)
    args.add_all(ctx.files.images, before_each = "--image", expand_directories = False)
    ctx.actions.run(
        executable = ctx.executable._build_index,
        arguments = [args],
        inputs = ctx.files.images,
        outputs = [output],
        mnemonic = "OciImageIndex",
        progress_message = "Building OCI image index %{label}",
    )
    return [DefaultInfo(files = depset([output]))]

oci_image_index_rule = rule(
    implementation = _oci_image_index_impl,
    doc = _DOC,
    attrs = {
        "images": attr.label_list(
            mandatory = True,
            allow_files = True,
            doc = "The `oci_image` targets, one per platform, in index order.",
        ),
        "_build_index": attr.label(
            default = Label("//oci/private:build_index"),
            executable = True,
            cfg = "exec",
        ),
    },
)
