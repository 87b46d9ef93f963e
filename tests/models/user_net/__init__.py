"""A user's own network, outside the package: what a contributor writes to put the barycenter
head on an encoder-decoder of their own (imported as ``user_net.toy``)."""
