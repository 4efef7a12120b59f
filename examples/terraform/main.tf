# The payment case's key, managed with the Terraform AWS provider pointed at Tessera's AWS API.
# Not run on the machine this was written on (no Terraform binary there): every AWS call these
# resources make is replayed with the AWS SDK by test/integration/terraform-replay.test.ts, and
# docs/automation.md lists them.
#
# Before `terraform apply`: the roles the principals below name exist in Tessera (docs/automation.md,
# "Before either tool"), and the provider signs with
# an access key of a role that may administer keys (`tessera access-key create --role operator`),
# given as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40" # rotation_period_in_days
    }
  }
}

variable "tessera_endpoint" {
  description = "Tessera's address: its AWS API answers on the same listener as the native API."
  type        = string
  default     = "https://kms.internal:8200"
}

variable "tessera_account" {
  description = "The account id Tessera's AWS API answers with (server option aws.accountId)."
  type        = string
  default     = "000000000000"
}

provider "aws" {
  region = "us-east-1"
  endpoints {
    kms = var.tessera_endpoint
  }
  # Tessera has only the KMS API: no STS to validate credentials or ask the account id, no EC2
  # metadata service.
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

resource "aws_kms_key" "payment_db" {
  description             = "Payment database password"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 7
  tags = {
    team = "payments"
    data = "pci"
  }
}

resource "aws_kms_alias" "payment_db" {
  name          = "alias/payment-db"
  target_key_id = aws_kms_key.payment_db.key_id
}

# Translated by Tessera into a policy of the payment-vm role on this key only
# (docs/aws-compatibility.md, "Key policies").
resource "aws_kms_key_policy" "payment_db" {
  key_id = aws_kms_key.payment_db.key_id
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "payment-db"
    Statement = [
      {
        Sid       = "Operators administer the key through their role policies"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.tessera_account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "Payment VMs decrypt the database password, bound to the payment application"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.tessera_account}:role/payment-vm" }
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = { StringEquals = { "kms:EncryptionContext:app" = "payment" } }
      },
    ]
  })
}

# The batch job that writes new passwords: Encrypt and GenerateDataKey on this key, only for the
# payment application's context (docs/aws-compatibility.md, "Grants").
resource "aws_kms_grant" "payment_batch" {
  name               = "payment-batch"
  key_id             = aws_kms_key.payment_db.key_id
  grantee_principal  = "arn:aws:iam::${var.tessera_account}:role/payment-batch"
  retiring_principal = "arn:aws:iam::${var.tessera_account}:role/payment-batch"
  operations         = ["Encrypt", "GenerateDataKey", "DescribeKey"]
  constraints {
    encryption_context_subset = {
      app = "payment"
    }
  }
}

output "payment_db_key_arn" {
  value = aws_kms_key.payment_db.arn
}
