"""cosign_sign_rule: an executable that signs a pushed image with cosign (rules_oci 2.x compatible)."""

load(":runfiles.bzl", "runfile_word", "shell_quote", "write_launcher")

_DOC = """Signs an `oci_image` or `oci_image_index` in a registry with cosign, when run with `bazel run`.

The image is named by the digest Bazel built, `REPOSITORY@sha256:...`: push it first
(`oci_push`, whose `signers` can run this target). An index is signed with each of its
images. Flags after `bazel run //pkg:sign --`:

* `-r|--repository REGISTRY/NAME`: sign there instead of `repository`.
* `--key KEY`: a key file (`cosign generate-key-pair`), `env://VAR` or a KMS URI. With a
  key and no `--signing-config`, signing is offline: no transparency log. Its password
  comes from `$COSIGN_PASSWORD`.
* any other flag goes to `cosign sign` unchanged (e.g. `-a key=value`, or keyless
  signing against your own Fulcio and Rekor with `--signing-config FILE` and no `--key`).

Signatures are stored under cosign's tag scheme (`sha256-DIGEST.sig`), which podman's
`sigstoreSigned` policy, Kyverno and policy-controller read; `--new-bundle-format` asks
for cosign 3's bundles instead. Failure is one line on stderr and a non-zero exit status.
"""

# What cosign_sign_rule and cosign_attest_rule share: the image, where it was pushed, the tool.
COSIGN_ATTRS = {
    "image": attr.label(
        allow_single_file = True,
        mandatory = True,
        doc = "The `oci_image` or `oci_image_index`, as pushed: the digest Bazel built is what is signed.",
    ),
    "repository": attr.string(
        mandatory = True,
        doc = "Where the image was pushed, `REGISTRY/NAME`, without tag or digest; " +
              "`--repository` overrides it.",
    ),
    "_cosign_image": attr.label(
        default = Label("//oci/private:cosign_image"),
        executable = True,
        cfg = "target",
    ),
}

def cosign_executable(ctx, command, words = [], files = []):
    """The DefaultInfo of an executable running oci/private/cosign_image.py COMMAND on ctx's image.

    Args:
      ctx: the rule's context (attributes `image`, `repository`, `_cosign_image`).
      command: `sign` or `attest`.
      words: further shell words for the tool.
      files: further files its runfiles need.

    Returns:
      The DefaultInfo: the launcher, and the runfiles it needs.
    """
    words = [command, "--image", runfile_word(ctx, ctx.file.image), "--repository", shell_quote(ctx.attr.repository)] + words
    launcher = write_launcher(ctx, ctx.executable._cosign_image, words)
    runfiles = ctx.runfiles(files = [ctx.file.image] + files)
    return DefaultInfo(executable = launcher, runfiles = runfiles.merge(ctx.attr._cosign_image[DefaultInfo].default_runfiles))

def _cosign_sign_impl(ctx):
    return [cosign_executable(ctx, "sign")]

cosign_sign_rule = rule(
    implementation = _cosign_sign_impl,
    doc = _DOC,
    executable = True,
    attrs = COSIGN_ATTRS,
)
