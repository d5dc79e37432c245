"""The paid products' pages (issue 17): Sorotan on the companion's dashboard, Kompanion Plus for customers,
and each purchase's status and receipt. Paying lives in payments (payments/services/purchases.py); who may
buy what is products' rule (products.services.eligibility), which these pages ask and show."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from companions.decorators import companion_required
from core.errors import add_error_to_form
from payments import selectors, services
from payments.errors import PaymentError
from payments.forms import PurchaseForm
from payments.models import Payment, Refund
from products import services as product_services
from products.errors import ProductError
from products.models import Product, Purchase
from products.plus import plus_savings
from products.selectors import LIVE, plus_membership
from products.stats import sorotan_stats


def _buy(request: HttpRequest, form: PurchaseForm) -> HttpResponse | None:
    """Opens (or finds) the purchase and sends the buyer on to pay; None with the error on the form."""
    try:
        purchase = product_services.purchase_open(
            buyer=request.user, package=form.cleaned_data["package"], method=form.cleaned_data["method"]
        )
        if purchase.method == Purchase.Method.EARNINGS:
            services.purchase_pay_from_earnings(purchase_id=purchase.pk, actor=request.user)
            messages.success(request, _("Paid from your earnings. Your promotion is on."))
            return redirect("payments:purchase", reference=purchase.reference)
        finish = request.build_absolute_uri(reverse("payments:purchase", args=[purchase.reference]))
        payment = services.purchase_checkout(purchase_id=purchase.pk, actor=request.user, finish_url=finish)
    except (ProductError, PaymentError) as problem:
        add_error_to_form(form, problem)
        return None
    return HttpResponseRedirect(payment.redirect_url)


def _periods(user, product: str, now):
    return list(
        Purchase.objects.filter(buyer=user, product=product, status__in=LIVE, ends_at__gt=now).order_by("starts_at")
    )


@companion_required
@never_cache
@require_http_methods(["GET", "POST"])
def sorotan(request: HttpRequest, profile) -> HttpResponse:
    now = timezone.now()
    form = PurchaseForm(request.POST or None, product=Product.SOROTAN)
    if request.method == "POST" and form.is_valid():
        answer = _buy(request, form)
        if answer is not None:
            return answer
    periods = _periods(request.user, Product.SOROTAN, now)
    running = next((period for period in periods if period.starts_at <= now), None)
    # The statistics of the running promotion, else of the last one that ended.
    shown = running or (
        Purchase.objects.filter(buyer=request.user, product=Product.SOROTAN, status__in=LIVE, ends_at__lte=now)
        .order_by("-ends_at")
        .first()
    )
    context = {
        "form": form,
        "missing": product_services.eligibility(request.user, Product.SOROTAN, now),
        "periods": periods,
        "stats": sorotan_stats(shown, now=now) if shown else None,
        "available": selectors.companion_balances(profile)["available"],
        "has_packages": form.fields["package"].queryset.exists(),
        "now": now,
    }
    return render(request, "payments/sorotan.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def plus(request: HttpRequest) -> HttpResponse:
    if request.user.role != Role.CUSTOMER:
        raise Http404
    now = timezone.now()
    form = PurchaseForm(request.POST or None, product=Product.PLUS)
    if request.method == "POST" and form.is_valid():
        answer = _buy(request, form)
        if answer is not None:
            return answer
    context = {
        "form": form,
        "membership": plus_membership(request.user, now),
        "saved": plus_savings(request.user),
        "periods": _periods(request.user, Product.PLUS, now),
        "has_packages": form.fields["package"].queryset.exists(),
        "now": now,
    }
    return render(request, "payments/plus.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def purchase(request: HttpRequest, reference: str) -> HttpResponse:
    """A purchase's status and receipt: the buyer's only (anyone else gets 404). An open one can be paid."""
    item = Purchase.objects.select_related("package").filter(reference=reference, buyer=request.user).first()
    if item is None:
        raise Http404
    if request.method == "POST":
        finish = request.build_absolute_uri(reverse("payments:purchase", args=[item.reference]))
        try:
            payment = services.purchase_checkout(purchase_id=item.pk, actor=request.user, finish_url=finish)
        except PaymentError as problem:
            messages.error(request, problem.message)
            return redirect("payments:purchase", reference=item.reference)
        return HttpResponseRedirect(payment.redirect_url)
    payment = Payment.objects.filter(purchase=item, status=Payment.Status.PAID, needs_refund=False).first()
    context = {
        "purchase": item,
        "payment": payment,
        "refunds": list(Refund.objects.filter(payment__purchase=item).order_by("created_at")),
        "back": reverse("payments:sorotan" if item.product == Product.SOROTAN else "payments:plus"),
    }
    return render(request, "payments/purchase.html", context)
