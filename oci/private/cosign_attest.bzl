"""cosign_attest_rule: an executable that attaches a signed attestation to a pushed image (rules_oci 2.x compatible)."""

load(":cosign_sign.bzl", "COSIGN_ATTRS", "cosign_executable")
load(":runfiles.bzl", "runfile_word", "shell_quote")

_DOC = """Attaches a signed in-toto attestation to an image in a registry with cosign, when run with `bazel run`.

The statement's subject is the digest Bazel built, `REPOSITORY@sha256:...` (push it
first), and its predicate is the `predicate` file. Flags after `bazel run //pkg:attest --`
are those of `cosign_sign` (`--repository`, `--key`, the rest to `cosign attest`).

The attestation is stored in cosign's bundle format: as an OCI referrer of the image, or
under the referrers tag (`sha256-DIGEST`) where the registry lacks that API. `cosign
verify-attestation --type TYPE` and `cosign download attestation` find it either way.
"""

def _cosign_attest_impl(ctx):
    words = ["--type", shell_quote(ctx.attr.type), "--predicate", runfile_word(ctx, ctx.file.predicate)]
    return [cosign_executable(ctx, "attest", words, [ctx.file.predicate])]

cosign_attest_rule = rule(
    implementation = _cosign_attest_impl,
    doc = _DOC,
    executable = True,
    attrs = COSIGN_ATTRS | {
        "type": attr.string(
            mandatory = True,
            doc = "The predicate type, as `cosign attest --type` takes it: `spdxjson`, " +
                  "`cyclonedx`, `slsaprovenance`, `slsaprovenance1`, `link`, `vuln`, `custom` or a URI.",
        ),
        "predicate": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "The predicate file (e.g. an SPDX document or a SLSA provenance predicate).",
        ),
    },
)
