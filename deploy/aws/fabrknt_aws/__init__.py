"""The Fabrknt Suite's AWS deployment as a CDK app (deploy/aws/README in deploy/README.md)."""
