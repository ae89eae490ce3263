"""The one package that talks to AWS: sessions, adapters per resource kind, and the project's errors.

Nothing else in the project imports boto3 or botocore; callers get plain
dataclasses and ``cloud.exceptions`` (see tests/cloud/test_boundary.py).
"""
