# Empty dependencies file for normlab_core.
# This may be replaced when dependencies are built.
