"""oci_load_rule: an executable that loads an image into podman or docker (rules_oci 2.x compatible)."""

load(":runfiles.bzl", "runfile_word", "write_launcher")

_DOC = """Loads an `oci_image` into the local container engine, when run with `bazel run`.

The image is written as a `docker load` tarball (docker-archive: `manifest.json`, the
config and one uncompressed tar per layer, reproducible), which is loaded with
`podman load` when podman is installed, else with `docker load` when a docker daemon is
reachable (`$DOCKER_HOST` or `/var/run/docker.sock`).

Output group `tarball`: just that tarball, e.g.
`bazel build //pkg:load --output_groups=tarball`.

Most users should call the `oci_load` macro of `//oci:defs.bzl`, which also accepts a list
for `repo_tags`.
"""

def _oci_load_impl(ctx):
    tarball = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--image", ctx.file.image.path)
    args.add("--output", tarball)
    inputs = [ctx.file.image]
    if ctx.file.repo_tags:
        args.add("--repo-tags-file", ctx.file.repo_tags)
        inputs.append(ctx.file.repo_tags)
    ctx.actions.run(
        executable = ctx.executable._write_tarball,
        arguments = [args],
        inputs = inputs,
        outputs = [tarball],
        mnemonic = "OciTarball",
        progress_message = "Writing docker-archive tarball of %{label}",
    )
    launcher = write_launcher(ctx, ctx.executable._load_image, ["--tarball", runfile_word(ctx, tarball)])
    runfiles = ctx.runfiles(files = [tarball]).merge(ctx.attr._load_image[DefaultInfo].default_runfiles)
    return [
        DefaultInfo(executable = launcher, runfiles = runfiles),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

oci_load_rule = rule(
    implementation = _oci_load_impl,
    doc = _DOC,
    executable = True,
    attrs = {
        "image": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "The `oci_image` to load.",
        ),
        "repo_tags": attr.label(
            allow_single_file = True,
            doc = "A file of `REPOSITORY:TAG` names to give the loaded image, one per line " +
                  "(the macro also takes a list). None: the image is loaded untagged.",
        ),
        "_write_tarball": attr.label(
            default = Label("//oci/private:write_tarball"),
            executable = True,
            cfg = "exec",
        ),
        "_load_image": attr.label(
            default = Label("//oci/private:load_image"),
            executable = True,
            cfg = "target",
        ),
    },
)
