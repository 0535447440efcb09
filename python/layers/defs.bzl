"""Python image layers: site-packages and app tars, with precompiled bytecode.

py_layer(name, deps, prefix): a tar of the Python files of py_library deps (and their
transitive deps), each at prefix + its path below its import root (the `imports` of its
py_library, e.g. a wheel's site-packages; the workspace root for first-party code
without `imports`), then bytecode-compiled. py_compile_layer(name, src): the same
bytecode step for any layer tar. --//python/layers:pyc=false skips bytecode everywhere.
"""

load("@rules_python//python:defs.bzl", "PyInfo")

PycSettingInfo = provider(
    doc = "Whether layers get precompiled bytecode.",
    fields = {"enabled": "bool"},
)

def _pyc_setting_impl(ctx):
    return [PycSettingInfo(enabled = ctx.build_setting_value)]

pyc_setting = rule(
    implementation = _pyc_setting_impl,
    build_setting = config.bool(flag = True),
    doc = "A boolean command-line flag: True adds bytecode to layers.",
)

_PYC_ATTRS = {
    "_no_pyc": attr.label(
        default = "//python/layers:no_pyc.txt",
        allow_single_file = True,
    ),
    "_pyc_setting": attr.label(default = "//python/layers:pyc"),
    "_pyc_tool": attr.label(
        default = "//python/layers:pyc_tool",
        executable = True,
        cfg = "exec",
    ),
}

def _compile_or_copy(ctx, src, out):
    """Writes out: src with bytecode added, or src itself with --//python/layers:pyc=false."""
    if not ctx.attr._pyc_setting[PycSettingInfo].enabled:
        ctx.actions.symlink(output = out, target_file = src)
        return
    ctx.actions.run(
        executable = ctx.executable._pyc_tool,
        arguments = ["--no-pyc", ctx.file._no_pyc.path, src.path, out.path],
        inputs = [src, ctx.file._no_pyc],
        outputs = [out],
        mnemonic = "PyCompileLayer",
        progress_message = "Compiling bytecode into %{output}",
    )

def _py_compile_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    _compile_or_copy(ctx, ctx.file.src, out)
    return [DefaultInfo(files = depset([out]))]

py_compile_layer = rule(
    implementation = _py_compile_layer_impl,
    attrs = dict(_PYC_ATTRS, src = attr.label(
        allow_single_file = [".tar"],
        mandatory = True,
        doc = "The layer tar whose .py files get bytecode.",
    )),
    doc = "Adds __pycache__/*.cpython-311.pyc (unchecked-hash) for every .py of a layer tar.",
)

_EXCLUDED_NAMES = ["BUILD", "BUILD.bazel"]

def _runfiles_path(ctx, file):
    """Returns the path of file below the runfiles root, starting with its repository."""
    if file.short_path.startswith("../"):
        return file.short_path[3:]
    return ctx.workspace_name + "/" + file.short_path

def _image_path(ctx, file, import_roots):
    """Returns the path of file in the image, or None if it does not belong in a layer."""
    path = _runfiles_path(ctx, file)
    root = None
    for candidate in import_roots:
        if path.startswith(candidate + "/") and (root == None or len(candidate) > len(root)):
            root = candidate
    if root == None:
        if file.owner.workspace_name:
            return None  # Outside an external repository's import roots: not importable.
        root = ctx.workspace_name
    relative = path[len(root) + 1:]
    if relative == "__init__.py" or file.basename in _EXCLUDED_NAMES or file.extension == "whl":
        return None
    return ctx.attr.prefix.rstrip("/") + "/" + relative

def _py_layer_impl(ctx):
    if not ctx.attr.prefix.startswith("/"):
        fail("prefix must be an absolute path, got " + repr(ctx.attr.prefix))
    import_roots = depset(transitive = [
        dep[PyInfo].imports
        for dep in ctx.attr.deps
        if PyInfo in dep
    ]).to_list()
    files = depset(transitive = [
        depset(transitive = [dep[DefaultInfo].files, dep[DefaultInfo].default_runfiles.files])
        for dep in ctx.attr.deps
    ]).to_list()
    excluded = [ctx.attr.prefix.rstrip("/") + "/" + d.strip("/") + "/" for d in ctx.attr.exclude_dirs]
    pairs = []
    for file in files:
        image_path = _image_path(ctx, file, import_roots)
        if image_path and not [d for d in excluded if image_path.startswith(d)]:
            pairs.append([image_path, file.path])
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest.json")
    ctx.actions.write(manifest, json.encode({"files": sorted(pairs)}))

    sources = ctx.actions.declare_file(ctx.label.name + ".sources.tar")
    ctx.actions.run(
        executable = ctx.executable._layer_tar_tool,
        arguments = [manifest.path, sources.path],
        inputs = [manifest] + files,
        outputs = [sources],
        mnemonic = "PyLayerTar",
        progress_message = "Writing Python layer %{output}",
    )
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    _compile_or_copy(ctx, sources, out)
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(sources = depset([sources])),
    ]

_py_layer = rule(
    implementation = _py_layer_impl,
    attrs = dict(
        _PYC_ATTRS,
        deps = attr.label_list(doc = "py_library targets (and wheel dist_info filegroups)."),
        exclude_dirs = attr.string_list(doc = "Directories below `prefix` left out of the layer, such as a package's own test suite."),
        prefix = attr.string(mandatory = True, doc = "Absolute directory the import roots map to."),
        _layer_tar_tool = attr.label(
            default = "//python/layers:layer_tar_tool",
            executable = True,
            cfg = "exec",
        ),
    ),
)

def py_layer(name, deps, prefix, **kwargs):
    """A layer of Python packages, bytecode-compiled.

    Output group "sources" holds the layer before its bytecode step.

    Args:
      name: the target; its output is NAME.tar.
      deps: py_library targets. For a pip requirement (a label ending in "_pkg", as
        `requirement()` returns), the wheel's `_dist_info` target (which adds its RECORD)
        comes along.
      prefix: the absolute directory that stands for the import roots, e.g.
        "/usr/lib/python3/dist-packages" or "/app".
      **kwargs: `exclude_dirs` (directories below prefix to leave out) and common
        attributes (visibility, tags, ...).
    """
    dist_infos = [dep[:-len("_pkg")] + "_dist_info" for dep in deps if dep.endswith("_pkg")]
    _py_layer(name = name, deps = deps + dist_infos, prefix = prefix, **kwargs)
