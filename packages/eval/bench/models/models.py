"""The bench's models, real-size architectures with random weights (a model's cost does not depend
on its weights): torchvision's vit_b_16 (ViT-B/16, the shape of DINO's dino_vitb16) called as DINO
is, on frames whose shorter side is 224 (patch position embeddings interpolated to the frame's grid,
the class token out); torchvision's S3D (the separable-convolution Inception-I3D of Kinetics-400,
about I3D's size: [N, 3, T, 224, 224] in, 400 out); and torchvision's vit_b_32 with a 768 -> 512
projection of its class token, called as CLIP ViT-B/32's encode_image is ([N, 3, 224, 224] in,
512 out: the same width, depth, heads and patches as CLIP's image tower)."""

import torch
import torch.nn.functional as F
import torchvision


class DinoLikeViT(torch.nn.Module):
    """ViT-B/16 on [N, 3, H, W] frames (H, W fixed at build time), giving the class token (768)."""

    def __init__(self, height, width):
        super().__init__()
        vit = torchvision.models.vit_b_16()
        self.vit = vit
        gh, gw = height // 16, width // 16
        pos = vit.encoder.pos_embedding.detach()
        grid = pos[:, 1:].reshape(1, 14, 14, 768).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(gh, gw), mode="bicubic", align_corners=False)
        self.register_buffer("pos", torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, gh * gw, 768)], dim=1))

    def forward(self, pixel_values):
        n = pixel_values.shape[0]
        x = self.vit.conv_proj(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.vit.class_token.expand(n, -1, -1), x], dim=1) + self.pos
        x = self.vit.encoder.ln(self.vit.encoder.layers(x))
        return x[:, 0]


class S3DFeatures(torch.nn.Module):
    """torchvision's S3D with its 400 Kinetics logits as the features."""

    def __init__(self):
        super().__init__()
        self.s3d = torchvision.models.video.s3d()
        # He initialisation, so that a clip's signal survives the depth (PyTorch's default shrinks
        # it at each layer until every clip gives the same 400 values, and FVD is float noise).
        for m in self.s3d.modules():
            if isinstance(m, torch.nn.Conv3d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, video):
        return self.s3d(video)


def build(seed=0, height=224, width=298):
    torch.manual_seed(seed)
    vit = DinoLikeViT(height, width).eval()
    s3d = S3DFeatures().eval()
    return vit, s3d


class ClipLikeViT(torch.nn.Module):
    """ViT-B/32 on [N, 3, 224, 224] CLIP-normalised frames, giving the projected class token (512)."""

    def __init__(self):
        super().__init__()
        self.vit = torchvision.models.vit_b_32()
        self.proj = torch.nn.Parameter(torch.randn(768, 512) * 768 ** -0.5)

    def forward(self, pixel_values):
        n = pixel_values.shape[0]
        x = self.vit._process_input(pixel_values)
        x = torch.cat([self.vit.class_token.expand(n, -1, -1), x], dim=1)
        x = self.vit.encoder(x)
        return x[:, 0] @ self.proj


def build_clip(seed=1):
    torch.manual_seed(seed)
    return ClipLikeViT().eval()
