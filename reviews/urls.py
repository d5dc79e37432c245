from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("bookings/<str:reference>/review/", views.write, name="write"),
]
