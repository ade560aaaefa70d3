/* fuzz_config.c - the config parser, from a file with the fuzzer's bytes. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char path[] = "/tmp/wsi-fuzz-conf.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	wsi_error e = {0};
	wsi_config *c = wsi_config_load(path, &e);
	if (c) {
		long n;
		int b;
		wsi_conf_int(c, "store", "overlap", 300, 1, 100000, &n, &e);
		wsi_conf_bool(c, "store", "tls_verify", 1, &b, &e);
		wsi_list_has(wsi_conf(c, "store", "post_statuses", ""), "processing");
		wsi_config_free(c);
	}
	unlink(path);
	return 0;
}
