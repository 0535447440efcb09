"""image_version: the workload's version as image labels and tags, read at build time."""

def _image_version_impl(ctx):
    labels = ctx.actions.declare_file(ctx.label.name + ".labels.txt")
    tags = ctx.actions.declare_file(ctx.label.name + ".tags.txt")
    repo_tags = ctx.actions.declare_file(ctx.label.name + ".repo_tags.txt")
    args = ctx.actions.args()
    args.add(ctx.file.init_py)
    args.add("--title", ctx.attr.title)
    args.add("--labels", labels)
    args.add("--tags", tags)
    args.add("--repository", ctx.attr.repository)
    args.add("--repo-tags", repo_tags)
    if ctx.attr.latest:
        args.add("--latest")
    inputs = [ctx.file.init_py]
    if ctx.attr.stamp:
        args.add("--status", ctx.info_file)
        inputs.append(ctx.info_file)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = inputs,
        outputs = [labels, tags, repo_tags],
        mnemonic = "ImageVersion",
        progress_message = "Reading the version of %s" % ctx.file.init_py.short_path,
    )
    return [
        DefaultInfo(files = depset([labels, tags, repo_tags])),
        OutputGroupInfo(labels = depset([labels]), tags = depset([tags]), repo_tags = depset([repo_tags])),
    ]

image_version = rule(
    implementation = _image_version_impl,
    doc = """Reads `__version__` from a package's `__init__.py` (without importing it).

Writes `NAME.labels.txt` (org.opencontainers.image.version and .title, plus
.revision and .source under --stamp) and `NAME.tags.txt` (the version as an image
tag, and `latest` if asked) and `NAME.repo_tags.txt` (REPOSITORY:TAG lines); output
groups `labels`, `tags` and `repo_tags` select one. A version
that is not semantic versioning fails the build; see version.py for the tag rule.""",
    attrs = {
        "init_py": attr.label(mandatory = True, allow_single_file = [".py"], doc = "The `__init__.py` holding `__version__`."),
        "latest": attr.bool(default = False, doc = "Also tag the image `latest`."),
        "repository": attr.string(mandatory = True, doc = "The local image name of the repo tags."),
        "stamp": attr.bool(default = False, doc = "Add the revision and source labels from the workspace status (image/BUILD.bazel sets it from `--stamp` with a `select` on its `:stamped` config_setting)."),
        "title": attr.string(mandatory = True, doc = "The org.opencontainers.image.title label."),
        "_tool": attr.label(default = "//image:version_tool", executable = True, cfg = "exec"),
    },
)
