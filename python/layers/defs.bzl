"""Python image layers: the workload's files sorted by origin, with precompiled bytecode.

py_image_layer(name, app, deps, requirements): walks the runfiles of the user's app and
of the kit's server once and writes two layer tars, in this order:

* third_party.tar: every file from a pip repository (each wheel's site-packages, with
  its whole .dist-info) and the kit's own first-party code (`deps`), at `site_packages`
  plus its path below its import root;
* app.tar: the user's first-party code and data (`app`), at `app_dir` plus its path
  below its import root.

No package is named: what a pip repository holds is decided by requirements_lock.txt.
py_compile_layer(name, src) adds the same bytecode to any layer tar.
--//python/layers:pyc=false skips bytecode everywhere.
"""

load("@python//:python.bzl", "PYTHON_CACHE_TAG", "PYTHON_VERSION")
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
        arguments = ["--no-pyc", ctx.file._no_pyc.path, "--python-version", PYTHON_VERSION, src.path, out.path],
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
    doc = "Adds __pycache__/*.%s.pyc (unchecked-hash) for every .py of a layer tar." % PYTHON_CACHE_TAG,
)

_EXCLUDED_NAMES = ["BUILD", "BUILD.bazel", "REPO.bazel", "WORKSPACE"]

def _runfiles_path(ctx, file):
    """Returns the path of file below the runfiles root, starting with its repository."""
    if file.short_path.startswith("../"):
        return file.short_path[3:]
    return ctx.workspace_name + "/" + file.short_path

def _relative_path(ctx, file, import_roots):
    """Returns file's path below its longest import root, or None if it is not importable.

    A first-party file outside every import root is taken relative to the workspace root.
    """
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
    if relative == "__init__.py" or file.basename in _EXCLUDED_NAMES or file.extension in ("whl", "pyc"):
        return None
    return relative

def _files_and_roots(targets):
    """Returns (every file in the targets' runfiles, their import roots)."""
    files = depset(transitive = [
        depset(transitive = [t[DefaultInfo].files, t[DefaultInfo].default_runfiles.files])
        for t in targets
    ])
    roots = depset(transitive = [t[PyInfo].imports for t in targets if PyInfo in t])
    return files.to_list(), roots.to_list()

def _layer_tar(ctx, name, pairs, filter = None):
    """Declares NAME.tar (with bytecode) and NAME.sources.tar from [[image path, file]]."""
    manifest = ctx.actions.declare_file("%s/%s.manifest.json" % (ctx.label.name, name))
    ctx.actions.write(manifest, json.encode({"files": sorted([[p, f.path] for p, f in pairs])}))
    sources = ctx.actions.declare_file("%s/%s.sources.tar" % (ctx.label.name, name))
    args = [manifest.path, sources.path] + (["--filter", filter.path] if filter else [])
    ctx.actions.run(
        executable = ctx.executable._layer_tar_tool,
        arguments = args,
        inputs = [manifest] + [f for _, f in pairs] + ([filter] if filter else []),
        outputs = [sources],
        mnemonic = "PyLayerTar",
        progress_message = "Writing Python layer %{output}",
    )
    out = ctx.actions.declare_file("%s/%s.tar" % (ctx.label.name, name))
    _compile_or_copy(ctx, sources, out)
    return out, sources

def _py_image_layer_impl(ctx):
    for attribute in ("site_packages", "app_dir"):
        value = getattr(ctx.attr, attribute)
        if not value.startswith("/") or value.endswith("/"):
            fail("%s must be an absolute path without a trailing /, got %r" % (attribute, value))
    app_files, app_roots = _files_and_roots([ctx.attr.app])
    kit_files, kit_roots = _files_and_roots(ctx.attr.deps)
    roots = app_roots + kit_roots
    app_own = {f: True for f in app_files if not f.owner.workspace_name}

    third_party, app, repositories = [], [], {}
    for file in depset(app_files + kit_files).to_list():
        relative = _relative_path(ctx, file, roots)
        if relative == None:
            continue
        if file in app_own:
            app.append([ctx.attr.app_dir + "/" + relative, file])
        else:
            third_party.append([ctx.attr.site_packages + "/" + relative, file])
            if file.owner.workspace_name:
                repositories[file.owner.workspace_name] = True

    # A wheel's RECORD is in its dist_info target only; wheels go to the SBOM. Both are
    # kept for the pip repositories the walk found, so removing a requirement removes them.
    for file in ctx.files.dist_infos:
        relative = _relative_path(ctx, file, roots)
        if file.owner.workspace_name in repositories and relative != None:
            third_party.append([ctx.attr.site_packages + "/" + relative, file])
    wheels = [f for f in ctx.files.wheels if f.owner.workspace_name in repositories]

    third_party_tar, third_party_sources = _layer_tar(ctx, "third_party", {p: f for p, f in third_party}.items(), ctx.file.filter)
    app_tar, app_sources = _layer_tar(ctx, "app", app)
    return [
        DefaultInfo(files = depset([third_party_tar, app_tar])),
        OutputGroupInfo(
            third_party = depset([third_party_tar]),
            app = depset([app_tar]),
            third_party_sources = depset([third_party_sources]),
            app_sources = depset([app_sources]),
            wheels = depset(wheels),
        ),
    ]

_py_image_layer = rule(
    implementation = _py_image_layer_impl,
    doc = "See py_image_layer.",
    attrs = dict(
        _PYC_ATTRS,
        app = attr.label(mandatory = True, providers = [PyInfo], doc = "The user's py_library: its first-party files go to app_dir."),
        deps = attr.label_list(providers = [PyInfo], doc = "The kit's py_library targets (the server): their first-party files go to site_packages."),
        dist_infos = attr.label_list(doc = "Every locked wheel's dist_info target (for RECORD)."),
        wheels = attr.label_list(allow_files = [".whl"], doc = "Every locked wheel's whl target."),
        site_packages = attr.string(mandatory = True, doc = "Where the image's Python finds third-party packages."),
        app_dir = attr.string(mandatory = True, doc = "The directory on the image's PYTHONPATH for the app."),
        filter = attr.label(
            default = "//python/layers:filter.json",
            allow_single_file = [".json"],
            doc = "What third_party.tar leaves out, with reasons (default: //python/layers:filter.json).",
        ),
        _layer_tar_tool = attr.label(
            default = "//python/layers:layer_tar_tool",
            executable = True,
            cfg = "exec",
        ),
    ),
)

def py_image_layer(name, app, deps, requirements, **kwargs):
    """The image's Python layers: third_party.tar, then app.tar (DefaultInfo, in that order).

    Output groups: third_party, app (each tar), third_party_sources, app_sources (the same
    before the bytecode step), wheels (the locked wheels in the layer, for the SBOM).

    Args:
      name: the target.
      app: the user's py_library (first-party code and data, to `app_dir`).
      deps: the kit's py_library targets (the server launcher, to `site_packages`).
      requirements: the pip hub's `all_requirements` (and any repository laid out like
        one, such as //runtime/meinheld:pkg); each `..._pkg` or `...:pkg` label brings its
        `dist_info` and `whl` siblings along.
      **kwargs: site_packages, app_dir, filter and common attributes.
    """
    pkgs = [r for r in requirements if r.endswith(("_pkg", ":pkg"))]
    if len(pkgs) != len(requirements):
        fail("requirements must be labels of wheel repositories' pkg targets (all_requirements)")
    _py_image_layer(
        name = name,
        app = app,
        deps = deps,
        dist_infos = [r[:-len("pkg")] + "dist_info" for r in pkgs],
        wheels = [r[:-len("pkg")] + "whl" for r in pkgs],
        **kwargs
    )
