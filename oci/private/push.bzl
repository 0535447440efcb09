"""oci_push_rule: an executable that pushes an image to a registry (rules_oci 2.x compatible)."""

load(":runfiles.bzl", "runfile_word", "shell_quote", "write_launcher")

_DOC = """Pushes an `oci_image` or `oci_image_index` to a registry with skopeo, when run with `bazel run`.

The image (for an index: each of its images, then the index) is pushed by digest, then
each tag is applied; the first failure stops it with
one line on stderr and a non-zero exit status. On success it prints
`REPOSITORY@sha256:DIGEST`.

Flags, after `bazel run //pkg:push --`:

* `-r|--repository REGISTRY/NAME`: push there instead of `repository`.
* `-t|--tag TAG` (repeatable): apply TAG too, in addition to `remote_tags`.
* `--digest-file PATH`: also write `REPOSITORY@sha256:DIGEST` to PATH (relative to the
  directory `bazel run` was called from). Default: not written.
* `--cert-dir DIR`: verify the registry's TLS certificate with the `*.crt` CA files in DIR.
* `--sign-key KEY` (default: `$COSIGN_KEY`): after the push by digest and before the
  tags, run each of `signers` with `--repository REPOSITORY --key KEY`. KEY is a file
  (relative to where `bazel run` was called), `env://VAR` or a KMS URI.

Credentials: `$REGISTRY_AUTH_FILE`, else `~/.docker/config.json` when it exists (as
written by `podman login` / `docker login`). TLS is always verified except for a registry
on a loopback address (127.0.0.0/8, ::1, `localhost`) without `--cert-dir`, which may be
plain HTTP. There are no retries; an unreachable registry fails within seconds.

Most users should call the `oci_push` macro of `//oci:defs.bzl`, which also accepts a list
for `remote_tags`.
"""

def _oci_push_impl(ctx):
    if bool(ctx.attr.repository) == bool(ctx.file.repository_file):
        fail("%s: set exactly one of `repository` and `repository_file`" % ctx.label)
    words = ["--image", runfile_word(ctx, ctx.file.image)]
    files = [ctx.file.image]
    if ctx.attr.repository:
        words += ["--repository", shell_quote(ctx.attr.repository)]
    else:
        words += ["--repository-file", runfile_word(ctx, ctx.file.repository_file)]
        files.append(ctx.file.repository_file)
    if ctx.file.remote_tags:
        words += ["--tags-file", runfile_word(ctx, ctx.file.remote_tags)]
        files.append(ctx.file.remote_tags)
    runfiles = [ctx.attr._push_image[DefaultInfo].default_runfiles]
    if ctx.attr.signers:
        words += ["--runfiles", "\"$R\""]
    for signer in ctx.attr.signers:
        executable = signer[DefaultInfo].files_to_run.executable
        if not executable:
            fail("%s: signer %s is not executable" % (ctx.label, signer.label))
        words += ["--signer", runfile_word(ctx, executable)]
        files.append(executable)
        runfiles.append(signer[DefaultInfo].default_runfiles)
    launcher = write_launcher(ctx, ctx.executable._push_image, words)
    return [DefaultInfo(executable = launcher, runfiles = ctx.runfiles(files = files).merge_all(runfiles))]

oci_push_rule = rule(
    implementation = _oci_push_impl,
    doc = _DOC,
    executable = True,
    attrs = {
        "image": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "The `oci_image` or `oci_image_index` to push.",
        ),
        "repository": attr.string(
            doc = "Where to push, `REGISTRY/NAME` (e.g. `ghcr.io/org/app`), without tag or " +
                  "digest. Exactly one of `repository` and `repository_file` is required.",
        ),
        "repository_file": attr.label(
            allow_single_file = True,
            doc = "A file whose first line is the repository (for one computed at build time).",
        ),
        "remote_tags": attr.label(
            allow_single_file = True,
            doc = "A file of tags to apply after the push, one per line (the macro also takes " +
                  "a list). None: the image is pushed by digest only.",
        ),
        "signers": attr.label_list(
            cfg = "target",
            doc = "Executables run in order by `--sign-key KEY` (or `$COSIGN_KEY`) after the " +
                  "push by digest and before the tags, each with `--repository REPOSITORY " +
                  "--key KEY`: `cosign_sign` and `cosign_attest` targets. Not in upstream " +
                  "rules_oci, where signing is a separate `bazel run`.",
        ),
        "_push_image": attr.label(
            default = Label("//oci/private:push_image"),
            executable = True,
            cfg = "target",
        ),
    },
)
