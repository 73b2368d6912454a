"""plans, subscriptions and Paystack checkout fields on payments

Revision ID: 9fb2f201ec8c
Revises: a4eb9721d7c2
Create Date: 2026-11-23 01:35:07.204102

The first payments table only noted orders awaiting a checkout that was never made: no
link was sent and no money was asked for, so its rows carry nothing to keep. It is
replaced by the table below (new required columns could not be added to rows that
lack them).
"""

from alembic import op
import sqlalchemy as sa


revision = "9fb2f201ec8c"
down_revision = "a4eb9721d7c2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("homework_credits", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        schema="payments",
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("plan_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("homework_credits", sa.Integer(), nullable=True),
        sa.Column("reminded_for_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone_number"),
        schema="payments",
    )
    op.create_index(
        op.f("ix_payments_subscriptions_ends_at"),
        "subscriptions",
        ["ends_at"],
        unique=False,
        schema="payments",
    )
    op.create_index(
        op.f("ix_payments_subscriptions_status"),
        "subscriptions",
        ["status"],
        unique=False,
        schema="payments",
    )

    op.drop_index(op.f("ix_payments_payments_subject_id"), table_name="payments", schema="payments")
    op.drop_index(op.f("ix_payments_payments_status"), table_name="payments", schema="payments")
    op.drop_index(
        op.f("ix_payments_payments_phone_number"), table_name="payments", schema="payments"
    )
    op.drop_table("payments", schema="payments")
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("order_reference", sa.String(length=64), nullable=True),
        sa.Column("plan_code", sa.String(length=40), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("access_code", sa.String(length=100), nullable=True),
        sa.Column("failure_reason", sa.String(length=100), nullable=True),
        sa.Column("settled_by", sa.String(length=20), nullable=True),
        sa.Column("paystack_transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("request_id"),
        schema="payments",
    )
    for column in ("phone_number", "status", "order_id", "created_at"):
        op.create_index(
            op.f(f"ix_payments_payments_{column}"),
            "payments",
            [column],
            unique=False,
            schema="payments",
        )


def downgrade() -> None:
    for column in ("phone_number", "status", "order_id", "created_at"):
        op.drop_index(
            op.f(f"ix_payments_payments_{column}"), table_name="payments", schema="payments"
        )
    op.drop_table("payments", schema="payments")
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        schema="payments",
    )
    for column in ("phone_number", "status", "subject_id"):
        op.create_index(
            op.f(f"ix_payments_payments_{column}"),
            "payments",
            [column],
            unique=False,
            schema="payments",
        )
    op.drop_index(
        op.f("ix_payments_subscriptions_status"), table_name="subscriptions", schema="payments"
    )
    op.drop_index(
        op.f("ix_payments_subscriptions_ends_at"), table_name="subscriptions", schema="payments"
    )
    op.drop_table("subscriptions", schema="payments")
    op.drop_table("plans", schema="payments")
