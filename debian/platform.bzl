"""platform_transition_filegroup: files built for another platform (aspect bazel-lib's name and meaning)."""

def _platform_transition_impl(_settings, attr):
    return {"//command_line_option:platforms": str(attr.target_platform)}

_platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _platform_transition_filegroup_impl(ctx):
    files = depset(transitive = [src[DefaultInfo].files for src in ctx.attr.srcs])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

platform_transition_filegroup = rule(
    implementation = _platform_transition_filegroup_impl,
    doc = "The files of srcs, built for target_platform (e.g. an image's layers for another CPU).",
    attrs = {
        "srcs": attr.label_list(allow_files = True, cfg = _platform_transition, doc = "The targets to build for target_platform."),
        "target_platform": attr.label(mandatory = True, doc = "The platform (e.g. //debian:linux_arm64)."),
    },
)
