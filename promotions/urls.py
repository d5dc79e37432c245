from django.urls import path

from promotions import views

app_name = "promotions"

urlpatterns = [
    # Invite friends (settings): the person's link and code, the share button, and each invitation's state.
    path("accounts/invite/", views.invite, name="invite"),
    # The invitation link a friend opens: keeps the code for the sign-up form, then shows the offer.
    path("r/<str:code>/", views.invitation_landing, name="landing"),
]
