"""How a payment reached the escrow account. The reference each channel gives is what makes a payment idempotent."""

from enum import StrEnum


class PaymentChannel(StrEnum):
    BANK_TRANSFER = "bank_transfer"  # reference: the bank's transaction reference
    WECHAT_PAY = "wechat_pay"  # reference: the WeChat Pay transaction id
    ALIPAY = "alipay"  # reference: the Alipay trade number
    UNIONPAY_POS = "unionpay_pos"  # a card at the desk's terminal; reference: the terminal's trace number
    CASH_AT_DESK = "cash_at_desk"  # paid in at the bank counter by the desk; reference: the deposit slip number
