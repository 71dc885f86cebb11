"""New prices for a shipped size catalogue (waves/data/*.json) from the cloud's own published
price format, read from a saved download (`scripts/refresh_catalogue.py`, docs/size.md).

The catalogue keeps its sizes: type, family, vCPU, memory and max_data_disks stay as they are;
only the hourly prices, `as_of` and `source` change. A listed size the file does not price gets
no price (null: sizing skips it) and a warning, never the stale figure.

The formats, as each cloud documents them:
- Azure Retail Prices API, https://prices.azure.com/api/retail/prices (Microsoft Learn, "Azure
  Retail Prices overview", learn.microsoft.com/rest/api/cost-management/retail-prices/
  azure-retail-prices): `{"Items": [{armSkuName, armRegionName, retailPrice, unitOfMeasure,
  type, skuName, productName, currencyCode, ...}], "NextPageLink": ...}`; a page per file.
- Cloud Billing Catalog API, `services/6F81-5844-456A/skus` (Compute Engine; Google Cloud,
  "Get Google Cloud pricing information", cloud.google.com/billing/v1/how-tos/catalog-api):
  `{"skus": [{description, category: {resourceGroup, usageType}, serviceRegions,
  pricingInfo: [{pricingExpression: {usageUnit, tieredRates: [{startUsageAmount,
  unitPrice: {currencyCode, units, nanos}}]}}]}], "nextPageToken": ...}`.
- AWS Price List Bulk API offer file for AmazonEC2 (AWS Billing user guide, "Reading the
  service price list file", docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/
  using-the-aws-price-list-bulk-api.html): `{"products": {SKU: {"attributes": {instanceType,
  operatingSystem, tenancy, preInstalledSw, capacitystatus, licenseModel, regionCode}}},
  "terms": {"OnDemand": {SKU: {TERM: {"priceDimensions": {RATE: {unit, pricePerUnit: {USD}}}}}}}}`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OS_FAMILIES = ("linux", "windows")
APIS = {
    "aws": "AWS Price List Bulk API offer file for AmazonEC2 "
    "(https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/<region>/index.json)",
    "azure": "Azure Retail Prices API (https://prices.azure.com/api/retail/prices)",
    "gcp": "Cloud Billing Catalog API, Compute Engine SKUs "
    "(https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus)",
}

Prices = dict[tuple[str, str], list[float]]  # (type, os family) -> every price the file gives


class PriceFileError(ValueError):
    """The file is not in the price format its cloud publishes (the message names the file)."""


@dataclass(frozen=True)
class Refreshed:
    catalogue: dict[str, Any]
    warnings: list[str]


def refresh(cloud: str, current: dict[str, Any], files: list[Path], as_of: str) -> Refreshed:
    """`current` with the prices of `files` (one or more pages of one cloud's answer)."""
    documents = [(path.name, _load(path)) for path in files]
    warnings: list[str] = []
    prices: Prices = defaultdict(list)
    for name, document in documents:
        PARSERS[cloud](name, document, current, prices)
    instances = [_priced(i, prices, warnings) for i in current["instances"]]
    names = ", ".join(name for name, _ in documents)
    source = (
        f"{APIS[cloud]}, region {current['region']}, read from the saved file(s) {names} by "
        f"scripts/refresh_catalogue.py on {as_of}. Sizes (vCPU, memory, data disks) are the "
        f"catalogue's own; only the hourly prices come from the file. {_note(cloud)}"
    )
    refreshed = {**current, "as_of": as_of, "source": source, "instances": instances}
    return Refreshed(refreshed, warnings)


def _note(cloud: str) -> str:
    if cloud == "gcp":
        return (
            "Each machine type is priced as vCPU x the family's core rate + GiB x its RAM rate, as "
            "Google prices predefined types; the Windows premium-image charge is not in the Compute "
            "Engine SKUs and is kept per type from the previous catalogue."
        )
    return "Planning estimates, not quotes: on-demand list prices, no discounts."


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PriceFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PriceFileError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PriceFileError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None


def _priced(instance: dict[str, Any], prices: Prices, warnings: list[str]) -> dict[str, Any]:
    out = dict(instance)
    for family in OS_FAMILIES:
        found = sorted(set(prices.get((instance["type"], family), [])))
        if not found:
            out[f"{family}_hourly"] = None
            warnings.append(f"{instance['type']}: no {family} price in the file; kept none")
            continue
        if len(found) > 1:
            warnings.append(f"{instance['type']}: {len(found)} {family} prices {found}; the lowest kept")
        out[f"{family}_hourly"] = round(found[0], 6)
    return out


_KIND: dict[type, str] = {dict: "object", list: "array", str: "string"}


def _need(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise PriceFileError(f"{where}: expected a JSON {_KIND[kind]}, got {type(value).__name__}")
    return value


def _number(value: Any, where: str) -> float:
    """A price given as a JSON number or a decimal string (AWS's pricePerUnit, Google's units)."""
    if isinstance(value, bool):
        raise PriceFileError(f"{where}: not a price: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PriceFileError(f"{where}: not a price: {str(value)[:40]!r}") from None
    if not number >= 0 or number == float("inf"):
        raise PriceFileError(f"{where}: not a price: {value!r}")
    return number


# --- Azure Retail Prices API -------------------------------------------------------------------


def _azure(name: str, document: Any, current: dict[str, Any], prices: Prices) -> None:
    items = _need(_need(document, dict, name).get("Items"), list, f"{name}: Items")
    types = {i["type"] for i in current["instances"]}
    for n, item in enumerate(items):
        where = f"{name}: Items[{n}]"
        _need(item, dict, where)
        size = item.get("armSkuName")
        if size not in types or not _azure_on_demand(item, current["region"]):
            continue
        family = "windows" if "Windows" in str(item.get("productName", "")) else "linux"
        prices[(size, family)].append(_number(item.get("retailPrice"), f"{where}.retailPrice"))


def _azure_on_demand(item: dict[str, Any], region: str) -> bool:
    """Pay-as-you-go by the hour in the catalogue's region: not Spot, Low Priority, DevTest or a
    reservation (those are other `type`s or carry it in skuName)."""
    sku = str(item.get("skuName", ""))
    return (
        item.get("type") == "Consumption"
        and item.get("unitOfMeasure") == "1 Hour"
        and item.get("armRegionName", region) == region
        and item.get("currencyCode", "USD") == "USD"
        and "Spot" not in sku
        and "Low Priority" not in sku
    )


# --- Cloud Billing Catalog API (Compute Engine) --------------------------------------------------


def _gcp(name: str, document: Any, current: dict[str, Any], prices: Prices) -> None:
    skus = _need(_need(document, dict, name).get("skus"), list, f"{name}: skus")
    rates: dict[tuple[str, str], list[float]] = defaultdict(list)  # (family, CPU|RAM) -> rates
    families = {f.lower(): f for f in current["families"]}
    for n, sku in enumerate(skus):
        where = f"{name}: skus[{n}]"
        found = _gcp_rate(_need(sku, dict, where), where, current["region"], families)
        if found is not None:
            rates[found[0]].append(found[1])
    for instance in current["instances"]:
        core, ram = rates.get((instance["family"], "CPU")), rates.get((instance["family"], "RAM"))
        if not core or not ram:
            continue
        linux = instance["vcpu"] * min(core) + instance["memory_gib"] * min(ram)
        prices[(instance["type"], "linux")].append(linux)
        if instance.get("windows_hourly") is not None and instance.get("linux_hourly") is not None:
            licence = instance["windows_hourly"] - instance["linux_hourly"]
            prices[(instance["type"], "windows")].append(linux + licence)


# "E2 Instance Core running in Americas", "N2 Instance Ram running in Americas"; not "Spot
# Preemptible ...", "N2 Custom Instance ...", "Commitment v1: ..." (other prices)
_GCP_DESCRIPTION = re.compile(r"^(?P<family>[A-Za-z0-9]+) Instance (?P<kind>Core|Ram) running in ")


def _gcp_rate(
    sku: dict[str, Any], where: str, region: str, families: dict[str, str]
) -> tuple[tuple[str, str], float] | None:
    """((family, CPU|RAM), on-demand USD per vCPU-hour or GiB-hour) of one SKU, or None when the
    SKU is not a catalogued family's on-demand core or RAM in the region."""
    category = _need(sku.get("category", {}), dict, f"{where}.category")
    group = category.get("resourceGroup")
    match = _GCP_DESCRIPTION.match(str(sku.get("description", "")))
    if group not in ("CPU", "RAM") or match is None or match["family"].lower() not in families:
        return None
    if category.get("usageType", "OnDemand") != "OnDemand":
        return None
    if region not in _need(sku.get("serviceRegions", []), list, f"{where}.serviceRegions"):
        return None
    info = _need(sku.get("pricingInfo"), list, f"{where}.pricingInfo")
    if not info:
        raise PriceFileError(f"{where}.pricingInfo: empty")
    expression = _need(_need(info[-1], dict, f"{where}.pricingInfo").get("pricingExpression"), dict, where)
    tiers = _need(expression.get("tieredRates"), list, f"{where}.tieredRates")
    price = _gcp_unit_price(tiers, f"{where}.tieredRates")
    return (families[match["family"].lower()], group), price


def _gcp_unit_price(tiers: list[Any], where: str) -> float:
    """The rate of the tier from zero usage on (a google.type.Money: units + nanos / 1e9)."""
    for tier in tiers:
        _need(tier, dict, where)
        if _number(tier.get("startUsageAmount", 0), f"{where}.startUsageAmount") == 0:
            money = _need(tier.get("unitPrice"), dict, f"{where}.unitPrice")
            if money.get("currencyCode", "USD") != "USD":
                raise PriceFileError(f"{where}.unitPrice: currency {money.get('currencyCode')!r}, not USD")
            units = _number(money.get("units", "0"), f"{where}.unitPrice.units")
            return units + _number(money.get("nanos", 0), f"{where}.unitPrice.nanos") / 1e9
    raise PriceFileError(f"{where}: no tier starting at 0")


# --- AWS Price List Bulk API (AmazonEC2 offer file) ----------------------------------------------

_AWS_OS = {"Linux": "linux", "Windows": "windows"}
_AWS_LICENCE = {"linux": "No License required", "windows": "License Included"}


def _aws(name: str, document: Any, current: dict[str, Any], prices: Prices) -> None:
    _need(document, dict, name)
    products = _need(document.get("products"), dict, f"{name}: products")
    terms = _need(document.get("terms"), dict, f"{name}: terms")
    on_demand = _need(terms.get("OnDemand"), dict, f"{name}: terms.OnDemand")
    types = {i["type"] for i in current["instances"]}
    for sku, product in products.items():
        where = f"{name}: products[{sku}]"
        attributes = _need(_need(product, dict, where).get("attributes"), dict, f"{where}.attributes")
        family = _aws_family(attributes, current["region"])
        if attributes.get("instanceType") not in types or family is None or sku not in on_demand:
            continue
        hourly = _aws_hourly(_need(on_demand[sku], dict, f"{name}: terms.OnDemand[{sku}]"), f"{name}: {sku}")
        if hourly is not None:
            prices[(attributes["instanceType"], family)].append(hourly)


def _aws_family(attributes: dict[str, Any], region: str) -> str | None:
    """linux or windows for a shared-tenancy, no-software, used-capacity product in the region;
    None for every other product (SQL Server images, dedicated hosts, reservations held)."""
    family = _AWS_OS.get(str(attributes.get("operatingSystem")))
    shared = (
        attributes.get("tenancy") == "Shared"
        and attributes.get("preInstalledSw") == "NA"
        and attributes.get("capacitystatus") == "Used"
        and attributes.get("regionCode", region) == region
    )
    if family is None or not shared:
        return None
    return family if attributes.get("licenseModel", _AWS_LICENCE[family]) == _AWS_LICENCE[family] else None


def _aws_hourly(offers: dict[str, Any], where: str) -> float | None:
    for code, offer in offers.items():
        dimensions = _need(_need(offer, dict, f"{where}.{code}").get("priceDimensions"), dict, where)
        for rate, dimension in dimensions.items():
            _need(dimension, dict, f"{where}.{rate}")
            if dimension.get("unit") == "Hrs":
                usd = _need(dimension.get("pricePerUnit"), dict, f"{where}.{rate}.pricePerUnit")
                return _number(usd.get("USD"), f"{where}.{rate}.pricePerUnit.USD")
    return None


PARSERS: dict[str, Callable[[str, Any, dict[str, Any], Prices], None]] = {
    "aws": _aws,
    "azure": _azure,
    "gcp": _gcp,
}
