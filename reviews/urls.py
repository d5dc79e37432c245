from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("bookings/<str:reference>/review/", views.write, name="write"),
    path("bookings/<str:reference>/review/reply/", views.reply, name="reply"),
    path("bookings/<str:reference>/review/safety/", views.safety_report, name="safety_report"),
]
