"""The live annotation loop with a Label Studio server (`client`)."""
