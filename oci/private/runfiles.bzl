"""Helpers shared by the executable rules (oci_push, oci_load): their launcher scripts."""

def shell_quote(value):
    """Quotes VALUE as one POSIX shell word."""
    return "'" + value.replace("'", "'\\''") + "'"

def runfile_word(ctx, file):
    """Returns a shell word expanding to FILE's absolute path in the launcher's runfiles ($R)."""
    path = file.short_path[3:] if file.short_path.startswith("../") else ctx.workspace_name + "/" + file.short_path
    return "\"$R\"/" + shell_quote(path)

def write_launcher(ctx, tool, words):
    """Writes and returns the rule's executable, a launcher of TOOL.

    The launcher runs TOOL (a file in its runfiles) with the shell WORDS, then the caller's
    arguments. It finds its runfiles beside itself, else at $RUNFILES_DIR (as in a test).
    """
    launcher = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(
        launcher,
        "\n".join([
            "#!/usr/bin/env bash",
            "# Generated for %s." % ctx.label,
            "set -euo pipefail",
            "if [[ -d \"$0.runfiles\" ]]; then R=$0.runfiles; else R=${RUNFILES_DIR:?cannot find runfiles}; fi",
            "R=$(cd \"$R\" && pwd)",
            "exec %s %s \"$@\"" % (runfile_word(ctx, tool), " ".join(words)),
            "",
        ]),
        is_executable = True,
    )
    return launcher
