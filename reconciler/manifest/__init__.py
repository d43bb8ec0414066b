"""The manifest side: YAML files in, a validated ``Desired`` state out."""
