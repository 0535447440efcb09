"""Public API of the distroless Debian base: layer rules and the ABI check test."""

load("//debian/private:abi.bzl", _abi_check_test = "abi_check_test")
load("//debian/private:layer.bzl", _config_layer = "config_layer", _deb_layer = "deb_layer")

abi_check_test = _abi_check_test
config_layer = _config_layer
deb_layer = _deb_layer
