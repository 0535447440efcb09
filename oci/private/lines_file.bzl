"""A rule that writes a list of strings to a file, one per line.

The oci_* macros use it to turn a dict (`KEY=VALUE` lines) or a list given in a BUILD
file into the file their rules read, so that either form, or a file produced at build
time (for example a stamped version), can be passed.
"""

def _lines_file_impl(ctx):
    for line in ctx.attr.lines:
        if "\n" in line:
            fail("%s: a value must not contain a newline: %r" % (ctx.label, line))
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "".join([line + "\n" for line in ctx.attr.lines]))
    return [DefaultInfo(files = depset([out]))]

lines_file = rule(
    implementation = _lines_file_impl,
    doc = "Writes `lines` to `<name>.txt`, one per line.",
    attrs = {
        "lines": attr.string_list(doc = "The lines to write, in order; none may contain a newline."),
    },
)
