"""A django-oscar shop with django-oscar-api, as a merchant runs it: the real webshop the
shop-side tests and ``make up`` sync with (started by :mod:`channelhub_dev.oscar`)."""
