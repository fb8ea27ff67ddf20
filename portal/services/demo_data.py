"""Static material for the demo seed (portal.services.demo).

A technical university modelled on NTNU: faculties, departments, research
groups, course codes and study programmes that look real, and partner
organisations across every sector and size class. Company names are
invented; public bodies carry their real names but **invented**
organisation numbers (the seed generates valid MOD11 numbers).

Unit codes are ASCII (the unit service's rule), so NTNU's "ØK" faculty is
``OK`` here and its departments ``OK-IOT``, ``OK-ISO``.
"""

from __future__ import annotations

# (code, name nb, name en, master programme, bachelor programme, course prefix,
#  groups [(code, nb, en)], topic courses ["nb|en", ...])
Department = tuple[str, str, str, str, str, str, list[tuple[str, str, str]], list[str]]

FACULTIES: list[tuple[str, str, str, list[Department]]] = [
    ("IE", "Fakultet for informasjonsteknologi og elektroteknikk",
     "Faculty of Information Technology and Electrical Engineering", [
         ("IDI", "Institutt for datateknologi og informatikk",
          "Department of Computer Science", "MTDT", "BIDATA", "TDT",
          [("AI", "Kunstig intelligens", "Artificial Intelligence"),
           ("SU", "Programvareutvikling", "Software Engineering"),
           ("DS", "Datavitenskap", "Data Science")],
          ["Objektorientert programmering|Object-Oriented Programming",
           "Algoritmer og datastrukturer|Algorithms and Data Structures",
           "Databaser|Databases",
           "Maskinlæring|Machine Learning",
           "Programvarearkitektur|Software Architecture",
           "Distribuerte systemer|Distributed Systems",
           "Menneske-maskin-interaksjon|Human-Computer Interaction"]),
         ("IES", "Institutt for elektroniske systemer", "Department of Electronic Systems",
          "MTELSYS", "BIELEKTRO", "TFE",
          [("SIG", "Signalbehandling", "Signal Processing"),
           ("NANO", "Nanoelektronikk", "Nanoelectronics")],
          ["Kretsdesign|Circuit Design", "Digital signalbehandling|Digital Signal Processing",
           "Akustikk|Acoustics", "Innvevde systemer|Embedded Systems",
           "Radioteknikk|Radio Engineering", "Fotonikk|Photonics"]),
         ("IEL", "Institutt for elkraftteknikk", "Department of Electric Energy",
          "MTENERG", "BIELKRAFT", "TET",
          [("KRAFT", "Kraftsystemer", "Power Systems"),
           ("OMF", "Kraftelektronikk", "Power Electronics")],
          ["Elektriske kraftsystemer|Electric Power Systems",
           "Kraftelektronikk|Power Electronics", "Smarte nett|Smart Grids",
           "Elektriske maskiner|Electrical Machines", "Høyspenningsteknikk|High Voltage Engineering"]),
         ("IIK", "Institutt for informasjonssikkerhet og kommunikasjonsteknologi",
          "Department of Information Security and Communication Technology",
          "MTKOM", "BIDIGSEC", "TTM",
          [("SEC", "Informasjonssikkerhet", "Information Security"),
           ("NET", "Nettverkssystemer", "Networked Systems")],
          ["Kryptografi|Cryptography", "Nettverkssikkerhet|Network Security",
           "Digital etterforskning|Digital Forensics", "Kommunikasjonsnett|Communication Networks",
           "Sikker programvareutvikling|Secure Software Development"]),
         ("ITK", "Institutt for teknisk kybernetikk", "Department of Engineering Cybernetics",
          "MTTK", "BIAUTO", "TTK",
          [("ROB", "Robotikk", "Robotics"), ("AUT", "Autonome systemer", "Autonomous Systems")],
          ["Reguleringsteknikk|Control Engineering", "Robotsystemer|Robot Systems",
           "Optimalisering og regulering|Optimisation and Control",
           "Sensorfusjon|Sensor Fusion", "Autonome fartøy|Autonomous Vehicles"]),
         ("IMF", "Institutt for matematiske fag", "Department of Mathematical Sciences",
          "MTFYMA", "BMAT", "TMA",
          [("STAT", "Statistikk", "Statistics"),
           ("ANA", "Anvendt matematikk", "Applied Mathematics")],
          ["Matematikk 1|Mathematics 1", "Statistikk|Statistics",
           "Numerisk lineær algebra|Numerical Linear Algebra",
           "Stokastisk modellering|Stochastic Modelling", "Optimering|Optimisation"]),
     ]),
    ("IV", "Fakultet for ingeniørvitenskap", "Faculty of Engineering", [
        ("IBM", "Institutt for bygg- og miljøteknikk",
         "Department of Civil and Environmental Engineering", "MTBYGG", "BIBYGG", "TBA",
         [("VANN", "Vann og miljø", "Water and Environment"),
          ("KONS", "Konstruksjonsteknikk", "Structural Engineering")],
         ["Betongkonstruksjoner|Concrete Structures", "Vannforsyning|Water Supply",
          "Vegplanlegging|Road Planning", "Geoteknikk|Geotechnical Engineering",
          "Bygningsfysikk|Building Physics", "Transportmodeller|Transport Modelling"]),
        ("IGP", "Institutt for geovitenskap og petroleum",
         "Department of Geoscience and Petroleum", "MTPETR", "BIGEO", "TPG",
         [("RES", "Reservoarteknikk", "Reservoir Engineering"), ("GEO", "Geologi", "Geology")],
         ["Reservoarsimulering|Reservoir Simulation", "Geofysikk|Geophysics",
          "Boreteknologi|Drilling Technology", "CO2-lagring|CO2 Storage",
          "Mineralressurser|Mineral Resources"]),
        ("MTP", "Institutt for maskinteknikk og produksjon",
         "Department of Mechanical and Industrial Engineering", "MTPROD", "BIMASKIN", "TMM",
         [("PROD", "Produksjonssystemer", "Production Systems"),
          ("PDM", "Produktutvikling og materialer", "Product Development and Materials")],
         ["Mekanikk|Mechanics", "Produktutvikling|Product Development",
          "Additiv tilvirkning|Additive Manufacturing", "Vedlikeholdsstyring|Maintenance Management",
          "Maskindesign|Machine Design", "Logistikk|Logistics"]),
        ("EPT", "Institutt for energi- og prosessteknikk",
         "Department of Energy and Process Engineering", "MTENVEN", "BIENERGI", "TEP",
         [("TERMO", "Termisk energi", "Thermal Energy"),
          ("FLUID", "Strømningsteknikk", "Fluid Engineering")],
         ["Termodynamikk|Thermodynamics", "Varmepumper|Heat Pumps",
          "Fornybar energi|Renewable Energy", "Strømningsmekanikk|Fluid Mechanics",
          "Energi i bygninger|Energy in Buildings"]),
        ("IMT", "Institutt for marin teknikk", "Department of Marine Technology",
         "MTMART", "BIMARIN", "TMR",
         [("HYD", "Marin hydrodynamikk", "Marine Hydrodynamics"),
          ("MSO", "Marine systemer og operasjoner", "Marine Systems and Operations")],
         ["Marin hydrodynamikk|Marine Hydrodynamics", "Skipsdesign|Ship Design",
          "Havbrukskonstruksjoner|Aquaculture Structures",
          "Marine operasjoner|Marine Operations", "Undervannsteknologi|Subsea Technology"]),
    ]),
    ("NV", "Fakultet for naturvitenskap", "Faculty of Natural Sciences", [
        ("IKJ", "Institutt for kjemi", "Department of Chemistry", "MSCHEM", "BKJ", "TKJ",
         [("ANAL", "Analytisk kjemi", "Analytical Chemistry"),
          ("ORG", "Organisk kjemi", "Organic Chemistry")],
         ["Generell kjemi|General Chemistry", "Analytisk kjemi|Analytical Chemistry",
          "Organisk syntese|Organic Synthesis", "Miljøkjemi|Environmental Chemistry",
          "Spektroskopi|Spectroscopy"]),
        ("IKP", "Institutt for kjemisk prosessteknologi", "Department of Chemical Engineering",
         "MTKJ", "BIKJEMI", "TKP",
         [("KAT", "Katalyse", "Catalysis"), ("PSE", "Prosessystemer", "Process Systems")],
         ["Reaktorteknikk|Reactor Engineering", "Separasjonsteknikk|Separation Processes",
          "Prosessdesign|Process Design", "Polymerkjemi|Polymer Chemistry",
          "Katalyse|Catalysis"]),
        ("IBI", "Institutt for biologi", "Department of Biology", "MBIO", "BBI", "BI",
         [("MAR", "Marin biologi", "Marine Biology"), ("OKO", "Økologi", "Ecology")],
         ["Cellebiologi|Cell Biology", "Økologi|Ecology", "Marin økologi|Marine Ecology",
          "Akvakulturbiologi|Aquaculture Biology", "Fiskebiologi|Fish Biology"]),
        ("IFY", "Institutt for fysikk", "Department of Physics", "MSPHYS", "BFY", "TFY",
         [("KOND", "Kondenserte fasers fysikk", "Condensed Matter Physics"),
          ("BIOF", "Biofysikk", "Biophysics")],
         ["Fysikk|Physics", "Kvantemekanikk|Quantum Mechanics", "Optikk|Optics",
          "Biofysikk|Biophysics", "Solcellefysikk|Solar Cell Physics"]),
        ("IMA", "Institutt for materialteknologi",
         "Department of Materials Science and Engineering", "MTMT", "BIMAT", "TMT",
         [("MET", "Metallurgi", "Metallurgy"), ("FUNK", "Funksjonelle materialer",
                                               "Functional Materials")],
         ["Materialteknologi|Materials Technology", "Metallurgiske prosesser|Metallurgical "
          "Processes", "Korrosjon|Corrosion", "Batterimaterialer|Battery Materials",
          "Resirkulering av metaller|Recycling of Metals"]),
        ("IBT", "Institutt for bioteknologi og matvitenskap",
         "Department of Biotechnology and Food Science", "MBIOT", "BIMAT2", "TBT",
         [("MAT", "Matvitenskap", "Food Science"), ("BIOT", "Bioteknologi", "Biotechnology")],
         ["Mikrobiologi|Microbiology", "Matteknologi|Food Technology",
          "Bioprosessteknikk|Bioprocess Engineering", "Biopolymerer|Biopolymers"]),
    ]),
    ("MH", "Fakultet for medisin og helsevitenskap", "Faculty of Medicine and Health Sciences",
     [
         ("ISB", "Institutt for sirkulasjon og bildediagnostikk",
          "Department of Circulation and Medical Imaging", "MSMEDTEK", "BMEDT", "MEDT",
          [("ULT", "Ultralyd", "Ultrasound"), ("MR", "MR-fysikk", "MR Physics")],
          ["Medisinsk bildebehandling|Medical Image Processing",
           "Ultralydavbildning|Ultrasound Imaging", "Medisinsk teknologi|Medical Technology",
           "Kardiologi for ingeniører|Cardiology for Engineers"]),
         ("INB", "Institutt for nevromedisin og bevegelsesvitenskap",
          "Department of Neuromedicine and Movement Science", "MBEV", "BBEV", "BEV",
          [("BEV", "Bevegelsesvitenskap", "Movement Science"),
           ("NEVRO", "Nevrovitenskap", "Neuroscience")],
          ["Treningsfysiologi|Exercise Physiology", "Nevrovitenskap|Neuroscience",
           "Idrettsbiomekanikk|Sports Biomechanics", "Rehabilitering|Rehabilitation"]),
         ("ISM", "Institutt for samfunnsmedisin og sykepleie",
          "Department of Public Health and Nursing", "MSYKEPL", "BSYKEPL", "SYPL",
          [("SYK", "Sykepleievitenskap", "Nursing Science"),
           ("FOLK", "Folkehelse", "Public Health")],
          ["Klinisk sykepleie|Clinical Nursing", "Folkehelsearbeid|Public Health Work",
           "Helsetjenesteforskning|Health Services Research",
           "Velferdsteknologi|Welfare Technology"]),
         ("IKOM", "Institutt for klinisk og molekylær medisin",
          "Department of Clinical and Molecular Medicine", "MMOLMED", "PMED", "MOL",
          [("MOLM", "Molekylærmedisin", "Molecular Medicine"),
           ("KLIN", "Klinisk forskning", "Clinical Research")],
          ["Molekylærmedisin|Molecular Medicine", "Medisinsk genetikk|Medical Genetics",
           "Klinisk farmakologi|Clinical Pharmacology", "Immunologi|Immunology"]),
     ]),
    ("SU", "Fakultet for samfunns- og utdanningsvitenskap",
     "Faculty of Social and Educational Sciences", [
         ("ISS", "Institutt for sosiologi og statsvitenskap",
          "Department of Sociology and Political Science", "MSOS", "BSOS", "SOS",
          [("ARB", "Arbeidslivsstudier", "Working Life Studies"),
           ("POL", "Offentlig politikk", "Public Policy")],
          ["Arbeidslivssosiologi|Sociology of Work", "Offentlig forvaltning|Public "
           "Administration", "Kvantitativ metode|Quantitative Methods",
           "Europeisk politikk|European Politics", "Organisasjonsteori|Organisation Theory"]),
         ("IPS", "Institutt for psykologi", "Department of Psychology", "MPSY", "BPSY", "PSY",
          [("ARBP", "Arbeids- og organisasjonspsykologi", "Work and Organisational Psychology"),
           ("KOGN", "Kognitiv psykologi", "Cognitive Psychology")],
          ["Arbeids- og organisasjonspsykologi|Work and Organisational Psychology",
           "Kognitiv psykologi|Cognitive Psychology", "Utviklingspsykologi|Developmental "
           "Psychology", "Trafikkpsykologi|Traffic Psychology"]),
         ("IGF", "Institutt for geografi", "Department of Geography", "MGEOG", "BGEOG", "GEOG",
          [("BY", "Byutvikling", "Urban Development"),
           ("RESS", "Ressursgeografi", "Resource Geography")],
          ["Byutvikling|Urban Development", "Geografiske informasjonssystemer|Geographic "
           "Information Systems", "Klimatilpasning|Climate Adaptation",
           "Regional utvikling|Regional Development"]),
         ("ILU", "Institutt for lærerutdanning", "Department of Teacher Education",
          "MLU", "LUPE", "LGU",
          [("REAL", "Realfagsdidaktikk", "Science Education"),
           ("PROF", "Profesjonsfag", "Professional Studies")],
          ["Profesjonsfag|Professional Studies", "Realfagsdidaktikk|Science Education",
           "Praksis i skolen|School Practice", "Digital kompetanse i skolen|Digital "
           "Competence in Schools"]),
         ("ISA", "Institutt for sosialt arbeid", "Department of Social Work", "MSA", "BSA",
          "SOA",
          [("VELF", "Velferdsforskning", "Welfare Research"),
           ("BARN", "Barnevern", "Child Welfare")],
          ["Sosialt arbeid|Social Work", "Barnevern|Child Welfare",
           "Velferdsstatens organisering|Organising the Welfare State",
           "Praksisstudier|Field Practice"]),
     ]),
    ("HF", "Det humanistiske fakultet", "Faculty of Humanities", [
        ("IHS", "Institutt for historiske og klassiske studier",
         "Department of Historical and Classical Studies", "MHIST", "BHIST", "HIST",
         [("KULT", "Kulturarv", "Cultural Heritage"), ("ARK", "Arkeologi", "Archaeology")],
         ["Norsk historie|Norwegian History", "Kulturarvforvaltning|Cultural Heritage "
          "Management", "Arkeologisk metode|Archaeological Method",
          "Museumsformidling|Museum Communication"]),
        ("ISL", "Institutt for språk og litteratur", "Department of Language and Literature",
         "MNORD", "BNORD", "NORD",
         [("SPR", "Språkteknologi", "Language Technology"),
          ("LIT", "Litteraturvitenskap", "Literary Studies")],
         ["Norsk grammatikk|Norwegian Grammar", "Språkteknologi|Language Technology",
          "Klarspråk|Plain Language", "Litteraturformidling|Literary Communication"]),
        ("IKM", "Institutt for kunst- og medievitenskap", "Department of Art and Media Studies",
         "MMEDIE", "BMEDIE", "MVIT",
         [("MED", "Medievitenskap", "Media Studies"), ("FILM", "Film og TV", "Film and TV")],
         ["Mediebruk|Media Use", "Digital kultur|Digital Culture",
          "Filmproduksjon|Film Production", "Spilldesign|Game Design"]),
        ("IFR", "Institutt for filosofi og religionsvitenskap",
         "Department of Philosophy and Religious Studies", "MFI", "BFI", "FI",
         [("ETIK", "Anvendt etikk", "Applied Ethics"), ("REL", "Religionsvitenskap",
                                                         "Religious Studies")],
         ["Etikk og teknologi|Ethics and Technology", "Vitenskapsteori|Philosophy of Science",
          "Anvendt etikk|Applied Ethics", "Religion i samfunnet|Religion in Society"]),
    ]),
    ("AD", "Fakultet for arkitektur og design", "Faculty of Architecture and Design", [
        ("IAP", "Institutt for arkitektur og planlegging",
         "Department of Architecture and Planning", "MARK", "BARK", "AAR",
         [("PLAN", "Byplanlegging", "Urban Planning"), ("ARK", "Arkitektur", "Architecture")],
         ["Arkitekturprosjekt|Architecture Project", "Byplanlegging|Urban Planning",
          "Stedsutvikling|Place Development", "Landskapsarkitektur|Landscape Architecture"]),
        ("IAT", "Institutt for arkitektur og teknologi",
         "Department of Architecture and Technology", "MSARCH", "BAT", "AAT",
         [("BER", "Bærekraftige bygg", "Sustainable Buildings"),
          ("DIG", "Digital arkitektur", "Digital Architecture")],
         ["Bærekraftig arkitektur|Sustainable Architecture", "Tre som byggemateriale|Timber "
          "as a Building Material", "Parametrisk design|Parametric Design",
          "Nullutslippsbygg|Zero Emission Buildings"]),
        ("ID", "Institutt for design", "Department of Design", "MTDESIGN", "BIXD", "TPD",
         [("IXD", "Interaksjonsdesign", "Interaction Design"),
          ("IND", "Industridesign", "Industrial Design")],
         ["Industridesign|Industrial Design", "Interaksjonsdesign|Interaction Design",
          "Tjenestedesign|Service Design", "Designmetodikk|Design Methodology"]),
    ]),
    ("OK", "Fakultet for økonomi", "Faculty of Economics and Management", [
        ("IOT", "Institutt for industriell økonomi og teknologiledelse",
         "Department of Industrial Economics and Technology Management", "MTIOT", "BIOT",
         "TIO",
         [("ENT", "Entreprenørskap", "Entrepreneurship"),
          ("OPS", "Operasjonsanalyse", "Operations Research")],
         ["Prosjektledelse|Project Management", "Entreprenørskap|Entrepreneurship",
          "Investering og finans|Investment and Finance", "Operasjonsanalyse|Operations "
          "Research", "Innovasjonsledelse|Innovation Management", "Energimarkeder|Energy "
          "Markets"]),
        ("ISO", "Institutt for samfunnsøkonomi", "Department of Economics", "MSOK", "BSOK",
         "SOK",
         [("MIK", "Mikroøkonomi", "Microeconomics"), ("ARBO", "Arbeidsøkonomi",
                                                      "Labour Economics")],
         ["Mikroøkonomi|Microeconomics", "Miljøøkonomi|Environmental Economics",
          "Arbeidsmarkedsøkonomi|Labour Economics", "Offentlig økonomi|Public Economics"]),
        ("HHS", "NTNU Handelshøyskolen", "NTNU Business School", "MØKADM", "BØA", "BOA",
         [("REGN", "Regnskap og revisjon", "Accounting and Auditing"),
          ("STRAT", "Strategi og ledelse", "Strategy and Management")],
         ["Bedriftsøkonomi|Business Economics", "Markedsføring|Marketing",
          "Regnskap|Accounting", "Strategisk ledelse|Strategic Management",
          "Bærekraftig forretningsutvikling|Sustainable Business Development"]),
    ]),
]

# The shared course project ("Kundestyrt prosjekt") the demo course leader runs.
CUSTOMER_PROJECT = ("TDT4290", "Kundestyrt prosjekt", "Customer Driven Project")

FIRST_NAMES = [
    "Anne", "Ingrid", "Kari", "Marit", "Silje", "Ida", "Nora", "Emma", "Sara", "Thea",
    "Ingeborg", "Maja", "Hanna", "Sofie", "Julie", "Mari", "Tuva", "Astrid", "Eline", "Vilde",
    "Ole", "Lars", "Jonas", "Magnus", "Henrik", "Sindre", "Eirik", "Even", "Håkon", "Sigurd",
    "Andreas", "Martin", "Kristian", "Tobias", "Emil", "Markus", "Mathias", "Jakob", "Aksel",
    "Sander", "Amir", "Fatima", "Ahmed", "Aisha", "Mohammed", "Wei", "Li", "Priya", "Arjun",
    "Elena", "Lukas", "Sophie", "Jan", "Agnieszka", "Tomasz", "Anna", "Ali", "Yusuf",
    "Siri", "Guro",
]
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg",
    "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen",
    "Mathisen", "Lie", "Rønning", "Aune", "Sæther", "Skjærvø", "Brattli", "Hovde", "Nguyen",
    "Ali", "Khan", "Hussain", "Kowalski", "Nowak", "Müller", "Schmidt", "Chen", "Wang",
    "Singh", "Rossi", "García", "Haugland",
]

MUNICIPALITIES = [
    "Trondheim", "Trondheim", "Trondheim", "Trondheim", "Ålesund", "Gjøvik", "Oslo", "Oslo",
    "Bergen", "Stavanger", "Bodø", "Tromsø", "Molde", "Steinkjer", "Stjørdal", "Orkland",
    "Melhus", "Levanger", "Kristiansund", "Malvik",
]

# Private companies: invented names from a place-like prefix and a line of business.
COMPANY_PREFIXES = [
    "Nidelva", "Fjordlys", "Nordlys", "Trondhjem", "Midtnorsk", "Kystlinje", "Polarlys",
    "Tinde", "Dovre", "Gauldal", "Børsa", "Ladehammer", "Skansen", "Lerka", "Havblikk",
    "Sørhav", "Vindfang", "Isbre", "Stjernefjell", "Frostating", "Byneset", "Munkholmen",
    "Hitra", "Frøya", "Ørland", "Skarnsund", "Gråkallen", "Leira", "Tyholt", "Brattøra",
]
COMPANY_LINES = [
    # (name part, NACE code, weight of ownership by the state)
    ("Teknologi", "62.010"), ("Software", "62.010"), ("Analyse", "62.020"),
    ("Havbruk", "03.211"), ("Sjømat", "10.200"), ("Energi", "35.111"), ("Kraft", "35.111"),
    ("Robotikk", "28.990"), ("Bygg", "41.200"), ("Marin", "30.110"), ("Subsea", "09.101"),
    ("Medtech", "32.501"), ("Rådgivning", "71.121"), ("Elektronikk", "26.110"),
    ("Design", "74.102"), ("Sparebank", "64.190"), ("Logistikk", "52.291"),
    ("Materialer", "24.420"), ("Miljøteknikk", "39.000"), ("Media", "59.110"),
    ("Arkitekter", "71.112"), ("Geo", "71.122"), ("Batteri", "27.200"),
    ("Helseteknologi", "86.909"),
]
COMPANY_FORMS = ["AS", "AS", "AS", "AS", "ASA", "SA"]

# (name, sector, size, NACE, municipality, public enterprise)
PUBLIC_BODIES = [
    ("Trondheim kommune", "public_municipal", "large", "84.110", "Trondheim", False),
    ("Ålesund kommune", "public_municipal", "large", "84.110", "Ålesund", False),
    ("Gjøvik kommune", "public_municipal", "large", "84.110", "Gjøvik", False),
    ("Malvik kommune", "public_municipal", "medium", "84.110", "Malvik", False),
    ("Stjørdal kommune", "public_municipal", "large", "84.110", "Stjørdal", False),
    ("Frøya kommune", "public_municipal", "medium", "84.110", "Frøya", False),
    ("Trøndelag fylkeskommune", "public_county", "large", "84.120", "Steinkjer", False),
    ("Møre og Romsdal fylkeskommune", "public_county", "large", "84.120", "Molde", False),
    ("Innlandet fylkeskommune", "public_county", "large", "84.120", "Hamar", False),
    ("Statens vegvesen, Midt", "public_state", "large", "84.130", "Trondheim", False),
    ("Kystverket Midt-Norge", "public_state", "medium", "84.240", "Ålesund", False),
    ("NAV Trøndelag", "public_state", "large", "84.300", "Trondheim", False),
    ("Statsforvalteren i Trøndelag", "public_state", "medium", "84.110", "Steinkjer", False),
    ("Mattilsynet, region Midt", "public_state", "medium", "84.130", "Trondheim", False),
    ("St. Olavs hospital HF", "health_trust", "large", "86.101", "Trondheim", False),
    ("Helse Møre og Romsdal HF", "health_trust", "large", "86.101", "Ålesund", False),
    ("Sykehuset Innlandet HF", "health_trust", "large", "86.101", "Gjøvik", False),
    ("Helse Nord-Trøndelag HF", "health_trust", "large", "86.101", "Levanger", False),
    ("Trondheim Havn IKS", "private", "small", "52.220", "Trondheim", True),
    ("Midtnorsk Nettselskap AS", "private", "medium", "35.130", "Trondheim", True),
    ("Statlig Vindkraft Midt AS", "private", "large", "35.111", "Trondheim", True),
]
NON_PROFITS = [
    ("Trondheim Røde Kors", "small", "88.990", "Trondheim"),
    ("Kirkens Bymisjon Trondheim", "medium", "88.990", "Trondheim"),
    ("Stiftelsen Havforskning Midt", "small", "72.190", "Trondheim"),
    ("Forskningsstiftelsen Nidar", "large", "72.190", "Trondheim"),
    ("Natur og Miljø Trøndelag", "micro", "94.991", "Trondheim"),
    ("Studentinkubatoren Spark", "micro", "94.991", "Trondheim"),
    ("Foreningen Teknologiløftet", "micro", "94.991", "Oslo"),
]
HIGHER_EDUCATION_NO = [
    ("Nord universitet", "large", "85.422", "Bodø"),
    ("Høgskolen i Molde", "medium", "85.422", "Molde"),
    ("Universitetet i Bergen", "large", "85.422", "Bergen"),
]
# Foreign partners: no Norwegian organisation number.
# (name, country, sector, size, NACE, city)
FOREIGN = [
    ("KTH Royal Institute of Technology", "SE", "higher_education", "large", "85.422",
     "Stockholm"),
    ("Technische Universität München", "DE", "higher_education", "large", "85.422",
     "München"),
    ("Aalborg Universitet", "DK", "higher_education", "large", "85.422", "Aalborg"),
    ("Nordic Subsea Systems AB", "SE", "private", "medium", "09.101", "Göteborg"),
    ("Hanseatic Marine Robotics GmbH", "DE", "private", "small", "28.990", "Hamburg"),
    ("Baltic Wind Analytics ApS", "DK", "private", "micro", "62.020", "Esbjerg"),
    ("Institut für Angewandte Meerestechnik e.V.", "DE", "non_profit", "medium", "72.190",
     "Kiel"),
    ("Delft Water Solutions B.V.", "NL", "private", "small", "71.121", "Delft"),
]

# Phrases for titles, by opportunity kind. ``{topic}`` is a course topic.
THESIS_TITLES = [
    "{topic} for bedre beslutninger i drift",
    "Datadrevet {topic_l} i praksis",
    "{topic} i praksis: en pilot hos oss",
    "Ny metode innen {topic_l} for norsk industri",
    "{topic} og bærekraft: en casestudie",
    "Evaluering av {topic_l} i et fullskalaanlegg",
    "Master's thesis: {topic} in an industrial setting",
    "Applying {topic_en} to real-world operations",
]
PLACEMENT_TITLES = [
    "Sommerpraksis: {topic_l}",
    "Praksisplass innen {topic_l}",
    "Summer internship in {topic_en}",
    "Arbeidsplassering hos oss: {topic_l}",
]
CASE_TITLES = [
    "Case: {topic_l} i vår verdikjede",
    "Bedriftscase om {topic_l}",
    "Industry case: {topic_en} for a growing company",
    "Reell utfordring: {topic_l}",
]
VILLAGE_THEMES = [
    ("Smarte og bærekraftige byer", "Smart and sustainable cities"),
    ("Havrommet som ressurs", "The ocean as a resource"),
    ("Helse og teknologi i hjemmet", "Health and technology at home"),
    ("Energiomstilling i praksis", "The energy transition in practice"),
    ("Digital sikkerhet i samfunnet", "Digital security in society"),
    ("Mat for fremtiden", "Food for the future"),
    ("Kunstig intelligens og etikk", "Artificial intelligence and ethics"),
    ("Sirkulær økonomi", "Circular economy"),
    ("Klimatilpasning i kommunene", "Climate adaptation in municipalities"),
    ("Fremtidens mobilitet", "Future mobility"),
    ("Læring og teknologi", "Learning and technology"),
    ("Arktiske utfordringer", "Arctic challenges"),
]
TAGS = [
    "maskinlæring", "bærekraft", "havbruk", "energi", "digitalisering", "helse", "sikkerhet",
    "robotikk", "data", "kommune", "bygg", "klima", "innovasjon", "logistikk", "design",
    "ai", "python", "simulering", "materialer", "økonomi",
]

# Recorded activities: (form, local labels people use, typical participants)
RECORDED = [
    ("guest_lecture", ["gjesteforelesning", "gjesteforeleser", "guest lecture",
                       "gjesteinnlegg"], (25, 180)),
    ("company_visit", ["bedriftsbesøk", "ekskursjon", "hovedekskursjon", "site visit"],
     (12, 60)),
    ("workshop", ["workshop", "fagseminar", "hackathon", "innovasjonscamp"], (15, 80)),
    ("career_event", ["karrieredag", "bedriftspresentasjon", "bedriftsmesse"], (40, 400)),
    ("mentoring", ["mentorordning", "jobbskygging", "alumnimentor"], (5, 30)),
    ("advisory_role", ["studieprogramråd", "referansegruppe", "næringslivsring"], (4, 12)),
    ("shared_position", ["professor II", "II-stilling", "delt stilling", "bistilling"],
     (1, 1)),
    ("staff_mobility", ["hospitering", "forskningstermin i virksomhet", "secondment"],
     (1, 2)),
    ("research_collaboration", ["forskningssamarbeid", "kontraktsforskning", "SFI",
                                "samarbeidsprosjekt"], (3, 15)),
    ("student_innovation", ["studentbedrift", "oppstartsbedrift", "student start-up"],
     (2, 8)),
]

# EU SME size classes and how common each is among the invented companies.
SIZE_WEIGHTS = (("micro", "small", "medium", "large"), (25, 35, 25, 15))

# Which departments a partner in a NACE division typically works with (by
# division; ``*`` for anything else). Keeps titles and partners coherent.
NACE_DEPARTMENTS = {
    "03": ["NV-IBI", "IV-IMT", "NV-IBT", "IE-ITK"],
    "06": ["IV-IGP", "IV-EPT"],
    "09": ["IV-IGP", "IV-IMT", "IE-ITK"],
    "10": ["NV-IBT", "NV-IBI", "OK-IOT"],
    "24": ["NV-IMA", "NV-IKP"],
    "26": ["IE-IES", "IE-ITK", "NV-IFY"],
    "27": ["NV-IMA", "IE-IEL", "NV-IKP"],
    "28": ["IE-ITK", "IV-MTP", "AD-ID"],
    "30": ["IV-IMT", "IV-MTP"],
    "32": ["MH-ISB", "IE-IES", "AD-ID"],
    "35": ["IE-IEL", "IV-EPT", "OK-IOT", "OK-ISO"],
    "39": ["IV-IBM", "NV-IKJ", "SU-IGF"],
    "41": ["IV-IBM", "AD-IAT", "AD-IAP"],
    "52": ["IV-MTP", "OK-IOT", "IE-IMF"],
    "59": ["HF-IKM", "HF-ISL", "AD-ID"],
    "62": ["IE-IDI", "IE-IIK", "IE-IMF", "AD-ID"],
    "64": ["OK-HHS", "OK-ISO", "OK-IOT", "IE-IMF"],
    "71": ["IV-IBM", "IV-EPT", "AD-IAP", "IV-IGP"],
    "72": ["NV-IKJ", "NV-IBI", "IV-IMT", "NV-IFY"],
    "74": ["AD-ID", "HF-IKM"],
    "84": ["SU-ISS", "IV-IBM", "AD-IAP", "IE-IDI", "SU-IGF", "SU-ILU", "SU-ISA"],
    "85": ["IE-IDI", "SU-ILU", "NV-IFY", "IV-EPT", "HF-IFR"],
    "86": ["MH-ISB", "MH-ISM", "MH-IKOM", "MH-INB", "IE-IDI"],
    "88": ["SU-ISA", "SU-IPS", "MH-ISM"],
    "94": ["SU-ISS", "SU-IGF", "HF-IHS", "OK-IOT"],
}

# Descriptions by kind and language.
DESCRIPTIONS = {
    ("thesis_task", "nb"): "Oppgaven gjøres i tett samarbeid med oss, med tilgang til data og en "
                           "fast kontaktperson. Veiledning avtales med instituttet.",
    ("thesis_task", "en"): "You work closely with us, with access to our data and a named "
                           "contact person. Academic supervision is agreed with the department.",
    ("placement", "nb"): "Seks til ti uker med veiledning på arbeidsplassen og reelle oppgaver i "
                         "et tverrfaglig team.",
    ("placement", "en"): "Six to ten weeks with an on-site supervisor and real tasks in a "
                         "cross-disciplinary team.",
    ("industry_case", "nb"): "En reell problemstilling fra vår virksomhet, egnet for studentteam i "
                             "et emne. Vi stiller data og en kontaktperson.",
    ("industry_case", "en"): "A real problem from our business, suited to student teams in a "
                             "course. We provide data and a contact person.",
}
