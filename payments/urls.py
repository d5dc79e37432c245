from django.urls import path, re_path

from payments import product_views, views

app_name = "payments"

urlpatterns = [
    # With or without the trailing slash: Midtrans does not follow redirects, so none is ever sent.
    re_path(r"^webhooks/midtrans/?$", views.midtrans_notification, name="midtrans_notification"),
    path("bookings/<str:reference>/pay/", views.checkout, name="checkout"),
    path("bookings/<str:reference>/payment/", views.status, name="status"),
    path("bookings/<str:reference>/receipt/", views.receipt, name="receipt"),
    path("bookings/<str:reference>/refunds/<int:refund_id>/bank/", views.refund_bank_details, name="refund_details"),
    path("payments/simulator/<str:order_id>/", views.simulator, name="simulator"),
    path("companion/earnings/", views.earnings, name="earnings"),
    # Paid products (issue 17): Sorotan for companions, Kompanion Plus for customers, each purchase's receipt.
    path("companion/sorotan/", product_views.sorotan, name="sorotan"),
    path("plus/", product_views.plus, name="plus"),
    path("purchases/<str:reference>/", product_views.purchase, name="purchase"),
]
