# Empty compiler generated dependencies file for normlab.
# This may be replaced when dependencies are built.
