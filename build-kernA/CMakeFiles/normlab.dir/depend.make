# Empty dependencies file for normlab.
# This may be replaced when dependencies are built.
