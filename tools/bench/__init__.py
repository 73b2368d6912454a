"""`make bench`: the whole stack under signed webhooks at rising rates, against floors
measured in the same run on the same machine."""
