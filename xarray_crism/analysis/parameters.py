"""The CRISM summary parameters as data: Viviano-Beck et al. (2014), CAT v2.0 hyperspectral mode.

Each :class:`Parameter` names a *form* (how the value is computed, see :mod:`.summary`) and the
reflectances it uses as ``(wavelength nm, kernel width)``: ``R(w, k)`` is the median of the ``k``-band
kernel around the band nearest ``w`` (CAT's ``crism_sumutil_single`` with ``/hyper``). Sources, read for
the definitions: the CRISM team's IDL (``crism_summary_*.pro``, export of 2013-12-16) and JCAT
(``TRDRSummaryParameters.java``). Where they disagree, ``note`` says which one is followed.

Forms:

- ``single``: ``R(w)``; ``ratio``: ``R(w1) / R(w2)``;
- ``band_depth``: ``1 - Rc / ((1 - a) Rs + a Rl)``, ``a = (Wc - Ws) / (Wl - Ws)`` from the actual band
  wavelengths (bands = short, center, long); ``shoulder``: ``1 - ((1 - a) Rs + a Rl) / Rc``;
- ``min_band_depth``: the smaller of two band depths (bands = two short, center, long triples);
- ``slope``: ``1000 (R(w1) - R(w2)) / (W2 - W1)`` (reflectance per micrometre);
- ``continuum_index``: ``sum_i weight_i (Rc_i - R_i) / Rc_i`` with the continuum ``Rc`` the line
  through the two ``anchors`` (``abs_continuum``: divided by ``|Rc_i|``, as OLINDEX3 and ICER2_2);
- ``continuum_ratio``: ``1 - sum(w_i R_i / Rc_i, w_i > 0) / sum(|w_i| R_i / Rc_i, w_i < 0)``: the
  continuum-removed numerator (weights > 0) over the denominator (weights < 0);
- ``depth_ratio``: ``1 - (1 - P1) / (1 - P2)`` of two other parameters (``uses``);
- ``bd3000``: ``1 - R3000 / (R2530 (R2530 / R2210))``;
- ``variance``: ``sum((L(W_i) - R_i)^2)`` over every band from the first to the second of ``bands``, ``L`` the
  line through the single-band reflectances at the two ``anchors`` (VAR);
- ``integrated_band_depth``: ``integral of (1 - R / C) dW`` (W in um, trapezoids over every band from the
  first to the second of ``bands``), ``C`` CAT's BDI continuum: the line from (median wavelength, upper
  quartile value) of the bands between the first two ``anchors`` to (median wavelength, median value,
  the upper middle one for an even count) of the bands between the last two (BDI1000IR, BDI2000);
- ``vnir_peak``: RPEAK1, the peak wavelength (um) of a 5th-order polynomial fit to the bands between the
  two ``bands``; ``peak_integrated_band_depth``: BDI1000VIS, ``integral of (1 - R / P) dW`` (um, trapezoids)
  with ``P`` the fitted peak reflectance.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MTRDR_SU_ORDER", "PARAMETERS", "Parameter"]

Band = tuple[float, int]


@dataclass(frozen=True)
class Parameter:
    """One summary parameter: its form, reflectances ``(nm, kernel width)``, weights and meaning."""

    form: str
    bands: tuple[Band, ...]
    description: str
    weights: tuple[float, ...] = ()
    anchors: tuple[Band, ...] = ()
    uses: tuple[str, ...] = ()
    abs_continuum: bool = False
    note: str = ""


def _bd(s: float, ks: int, c: float, kc: int, lo: float, kl: int, what: str, note: str = "") -> Parameter:
    return Parameter("band_depth", ((s, ks), (c, kc), (lo, kl)), what, note=note)


def _sh(s: float, ks: int, c: float, kc: int, lo: float, kl: int, what: str) -> Parameter:
    return Parameter("shoulder", ((s, ks), (c, kc), (lo, kl)), what)


def _r(w: float, k: int, what: str) -> Parameter:
    return Parameter("single", ((w, k),), what)


def _min(first: tuple[Band, Band, Band], second: tuple[Band, Band, Band], what: str) -> Parameter:
    return Parameter("min_band_depth", first + second, what)


#: Name (as the MTRDR SU band) -> definition.
PARAMETERS: dict[str, Parameter] = {
    # VNIR (S)
    "R770": _r(770, 5, "0.77 um reflectance (higher value more dusty or icy)"),
    "RBR": Parameter("ratio", ((770, 5), (440, 5)), "red/blue ratio R770 / R440 (rock coatings)"),
    "BD530_2": _bd(440, 5, 530, 5, 614, 5, "0.53 um band depth (crystalline ferric minerals)"),
    "SH600_2": _sh(533, 5, 600, 5, 716, 3, "0.60 um shoulder height (select ferric minerals)"),
    "SH770": _sh(716, 3, 775, 5, 860, 5, "0.77 um shoulder height (select ferric minerals, e.g. lepidocrocite)"),
    "BD640_2": _bd(600, 5, 624, 3, 760, 5, "0.64 um band depth (select ferric minerals, maghemite)"),
    "BD860_2": _bd(755, 5, 860, 5, 977, 5, "0.86 um band depth (select ferric minerals, hematite)"),
    "BD920_2": _bd(807, 5, 920, 5, 984, 5, "0.92 um band depth (select ferric minerals)"),
    "R440": _r(440, 5, "0.44 um reflectance (clouds and hazes)"),
    "IRR1": Parameter("ratio", ((800, 5), (997, 5)), "IR ratio 1: R800 / R997 (aphelion ice clouds vs. seasonal or dust)"),
    "R530": _r(530, 5, "0.53 um reflectance (true-colour green)"),
    "R600": _r(600, 5, "0.60 um reflectance (true-colour red)"),
    # IR (L)
    "R1330": _r(1330, 11, "1.33 um reflectance (IR albedo)"),
    "BD1300": _bd(1080, 5, 1320, 15, 1750, 5, "1.3 um absorption associated with Fe2+ substitution in plagioclase"),
    "OLINDEX3": Parameter(
        "continuum_index", ((1210, 7), (1250, 7), (1263, 7), (1276, 7), (1330, 7)),
        "olivine index: weighted 1 um band depths below a 1.75-1.862 um continuum (Mg-olivine)",
        weights=(0.1, 0.1, 0.2, 0.2, 0.4), anchors=((1750, 7), (1862, 7)), abs_continuum=True,
        note="IDL divides by |Rc| (followed); JCAT by Rc",
    ),
    "LCPINDEX2": Parameter(
        "continuum_index", ((1690, 7), (1750, 7), (1810, 7), (1870, 7)),
        "low-Ca pyroxene index: weighted 1.8 um band depths below a 1.56-2.45 um continuum",
        weights=(0.2, 0.2, 0.3, 0.3), anchors=((1560, 7), (2450, 7)),
    ),
    "HCPINDEX2": Parameter(
        "continuum_index", ((2120, 5), (2140, 7), (2230, 7), (2250, 7), (2430, 7), (2460, 7)),
        "high-Ca pyroxene index: weighted 2.2-2.4 um band depths below a 1.69-2.53 um continuum",
        weights=(0.1, 0.1, 0.15, 0.3, 0.2, 0.15), anchors=((1690, 7), (2530, 7)),
    ),
    "RPEAK1": Parameter(
        "vnir_peak", ((433, 1), (1013, 1)),
        "reflectance peak wavelength (um) of a 5th-order polynomial fit to the VNIR bands (Fe mineralogy, dust)",
        note="CAT's mro_crism_vnir_peak: the model's maximum on 2001 steps; when it is at the long end or at "
             ">= 900 nm, the first local maximum (derivative + to -, second derivative < 0) instead",
    ),
    "BDI1000VIS": Parameter(
        "peak_integrated_band_depth", ((833, 1), (1023, 1)),
        "1 um integrated band depth (VNIR wavelengths) normalised by the RPEAK1 reflectance (olivine, pyroxene, Fe glass)",
        note="trapezoidal integration; the IDL uses INT_TABULATED, so values differ slightly",
    ),
    "BDI1000IR": Parameter(
        "integrated_band_depth", ((1020, 1), (1255, 1)),
        "1 um integrated band depth (IR wavelengths) below the BDI continuum (mafic minerals)",
        anchors=((1330, 1), (1875, 1), (2430, 1), (2600, 1)),
        note="trapezoidal integration over every band; the IDL uses INT_TABULATED (5-point Newton-Cotes on a "
             "cubic-spline resampling), so values differ slightly",
    ),
    "BDI2000": Parameter(
        "integrated_band_depth", ((1660, 1), (2390, 1)),
        "2 um integrated band depth below the BDI continuum (pyroxene)",
        anchors=((1330, 1), (1875, 1), (2430, 1), (2600, 1)),
        note="trapezoidal integration over every band; the IDL uses INT_TABULATED (5-point Newton-Cotes on a "
             "cubic-spline resampling), so values differ slightly",
    ),
    "VAR": Parameter(
        "variance", ((1021, 1), (2253, 1)),
        "spectral variance: sum of squared departures of every band 1.021-2.253 um from the line through R1014 and R2287",
        anchors=((1014, 1), (2287, 1)), note="hyperspectral form of the IDL (every band between the ends); JCAT omits VAR",
    ),
    "ISLOPE1": Parameter("slope", ((1815, 5), (2530, 5)), "spectral slope 1.815-2.53 um (ferric coating on dark rock)"),
    "BD1400": _bd(1330, 5, 1395, 3, 1467, 5, "1.4 um H2O and OH band depth"),
    "BD1435": _bd(1370, 3, 1434, 1, 1470, 3, "1.435 um CO2 ice band depth",
                  note="centre 1434 nm (IDL, JCAT's BD1435); JCAT's ICER1_2 uses 1435"),
    "BD1500_2": _bd(1367, 5, 1525, 11, 1808, 5, "1.5 um H2O ice band depth"),
    "ICER1_2": Parameter("depth_ratio", (), "CO2 and H2O ice band depth ratio 1 - (1 - BD1435) / (1 - BD1500_2)",
                         uses=("BD1435", "BD1500_2")),
    "BD1750_2": _bd(1690, 5, 1750, 3, 1815, 5, "1.75 um band depth (alunite, gypsum)"),
    "BD1900_2": _bd(1850, 5, 1930, 5, 2067, 5, "1.9 um H2O band depth"),
    "BD1900R2": Parameter(
        "continuum_ratio",
        ((1908, 1), (1914, 1), (1921, 1), (1928, 1), (1934, 1), (1941, 1),
         (1862, 1), (1869, 1), (1875, 1), (2112, 1), (2120, 1), (2126, 1)),
        "1.9 um H2O band depth, continuum-removed ratio of the band to its shoulders",
        weights=(1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1), anchors=((1815, 5), (2132, 5)),
        note="continuum anchors 1815 and 2132 nm as in the IDL and JCAT",
    ),
    "BD2100_2": _bd(1930, 3, 2132, 5, 2250, 3, "2.1 um shifted H2O band depth (monohydrated sulfates)"),
    "BD2165": _bd(2120, 5, 2165, 3, 2230, 3, "2.165 um Al-OH band depth (kaolinite group)"),
    "BD2190": _bd(2120, 5, 2185, 3, 2250, 3, "2.19 um Al-OH band depth (beidellite, allophane)"),
    "MIN2200": _min(((2120, 5), (2165, 3), (2350, 5)), ((2120, 5), (2210, 3), (2350, 5)),
                    "2.16 um Si-OH and 2.21 um H-bound Si-OH doublet (kaolinite group)"),
    "BD2210_2": _bd(2165, 5, 2210, 5, 2290, 5, "2.21 um Al-OH band depth (Al-OH minerals)"),
    "D2200": Parameter(
        "continuum_ratio", ((2210, 7), (2230, 7), (2165, 5)),
        "2.2 um drop-off (Al-OH minerals), continuum 1.815-2.43 um",
        weights=(1, 1, -2), anchors=((1815, 7), (2430, 7)),
    ),
    "BD2230": _bd(2210, 3, 2235, 3, 2252, 3, "2.23 um band depth (hydroxylated ferric sulfates)"),
    "BD2250": _bd(2120, 5, 2245, 7, 2340, 3, "2.25 um broad Al-OH and Si-OH band depth (opal)"),
    "MIN2250": _min(((2165, 5), (2210, 3), (2350, 5)), ((2165, 5), (2265, 3), (2350, 5)),
                    "2.21 and 2.26 um Si-OH doublet (opal)"),
    "BD2265": _bd(2210, 5, 2265, 3, 2340, 5, "2.265 um band depth (jarosite, gibbsite, acid-leached nontronite)"),
    "BD2290": _bd(2250, 5, 2290, 5, 2350, 5, "2.29 um Mg,Fe-OH band depth and CO2 ice"),
    "D2300": Parameter(
        "continuum_ratio", ((2290, 3), (2320, 3), (2330, 3), (2120, 5), (2170, 5), (2210, 5)),
        "2.3 um drop-off (hydroxylated Fe, Mg silicates), continuum 1.815-2.53 um",
        weights=(1, 1, 1, -1, -1, -1), anchors=((1815, 5), (2530, 5)),
    ),
    "BD2355": _bd(2300, 5, 2355, 5, 2450, 5, "2.35 um band depth (chlorite, prehnite, pumpellyite)"),
    "SINDEX2": _sh(2120, 5, 2290, 7, 2400, 3, "inverse lack of 2.1 and 2.4 um H2O bands (hydrated sulfates)"),
    "ICER2_2": Parameter(
        "continuum_index", ((2600, 5),), "2.7 um CO2 ice band (edge at 2.6 um) below a 2.456-2.53 um continuum",
        weights=(1.0,), anchors=((2456, 5), (2530, 5)), abs_continuum=True,
        note="the IDL reads the anchors' reflectance at 1750 and 2400 nm but their wavelengths at 2456 and "
             "2530 nm; JCAT (followed) reads both at 2456 and 2530 nm",
    ),
    "MIN2295_2480": _min(((2165, 5), (2295, 5), (2364, 5)), ((2364, 5), (2480, 5), (2570, 5)),
                         "Mg carbonate overtones (2.3 and 2.48 um)"),
    "MIN2345_2537": _min(((2250, 5), (2345, 5), (2430, 5)), ((2430, 5), (2537, 5), (2602, 5)),
                         "Ca/Fe carbonate overtones (2.34 and 2.54 um)"),
    "BD2500_2": _bd(2364, 5, 2480, 5, 2570, 5, "2.5 um Mg carbonate overtone band depth"),
    "BD3000": Parameter("bd3000", ((2210, 5), (2530, 5), (3000, 5)), "3.0 um H2O band depth (hydrated minerals)"),
    "BD3100": _bd(3000, 5, 3120, 5, 3250, 5, "3.1 um H2O ice band depth"),
    "BD3200": _bd(3250, 5, 3320, 5, 3390, 5, "3.2 um CO2 ice band depth"),
    "BD3400_2": _bd(3250, 10, 3420, 15, 3630, 10, "3.4 um carbonate band depth"),
    "CINDEX2": _sh(3450, 9, 3610, 11, 3875, 7, "inverted 3.6 um absorption (carbonate overtone)"),
    "BD2600": _bd(2530, 5, 2600, 5, 2630, 5, "2.6 um H2O band depth"),
    "IRR2": Parameter("ratio", ((2530, 5), (2210, 5)), "IR ratio 2: R2530 / R2210 (aphelion ice clouds vs. dust)"),
    "IRR3": Parameter("ratio", ((3500, 7), (3390, 7)), "IR ratio 3: R3500 / R3390 (CO2 ice)"),
    "R1080": _r(1080, 5, "1.08 um reflectance (false-colour blue)"),
    "R1506": _r(1506, 5, "1.506 um reflectance (false-colour green)"),
    "R2529": _r(2529, 5, "2.529 um reflectance (false-colour red)"),
    "R3920": _r(3920, 5, "3.92 um reflectance (IR albedo, ices)"),
}

#: The 60 bands of an MTRDR SU product, in the product's order (CAT ``summary_band_names``, version 0,
#: joined detector, extended with the browse-product reflectances).
MTRDR_SU_ORDER: tuple[str, ...] = (
    "R770", "RBR", "BD530_2", "SH600_2", "SH770", "BD640_2", "BD860_2", "BD920_2", "RPEAK1", "BDI1000VIS", "R440",
    "IRR1", "BDI1000IR", "R1330", "OLINDEX3", "LCPINDEX2", "HCPINDEX2", "BD1300", "VAR", "ISLOPE1", "BD1400", "BD1435",
    "BD1500_2", "ICER1_2", "BD1750_2", "BD1900_2", "BD1900R2", "BDI2000", "BD2100_2", "BD2165", "BD2190", "MIN2200",
    "BD2210_2", "D2200", "BD2230", "BD2250", "MIN2250", "BD2265", "BD2290", "D2300", "BD2355", "SINDEX2", "ICER2_2",
    "MIN2295_2480", "MIN2345_2537", "BD2500_2", "BD3000", "BD3100", "BD3200", "BD3400_2", "CINDEX2", "BD2600", "IRR2",
    "IRR3", "R530", "R600", "R1080", "R1506", "R2529", "R3920",
)
