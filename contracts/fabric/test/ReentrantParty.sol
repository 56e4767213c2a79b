// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// A malicious deal party (a contract wallet): it sends the calls its operator gives it,
/// and when it receives an ERC-721 token or the native coin it calls `target` with
/// `attack` (e.g. the escrow's withdraw or refund of the deal being settled), recording
/// the outcome. With `bubble`, a failed re-entry makes the receipt revert as a whole.
contract ReentrantParty is IERC721Receiver {
    address public immutable operator;
    address public target;
    bytes public attack;
    bool public bubble;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;

    constructor() {
        operator = msg.sender;
    }

    function arm(address target_, bytes calldata attack_, bool bubble_) external {
        require(msg.sender == operator, "operator only");
        target = target_;
        attack = attack_;
        bubble = bubble_;
    }

    function execute(address to, bytes calldata data) external payable returns (bytes memory) {
        require(msg.sender == operator, "operator only");
        (bool ok, bytes memory result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _reenter();
        return IERC721Receiver.onERC721Received.selector;
    }

    receive() external payable {
        _reenter();
    }

    function _reenter() private {
        if (target == address(0)) return;
        attempts += 1;
        (bool ok, bytes memory result) = target.call(attack);
        if (ok) {
            successes += 1;
        } else {
            lastError = result;
            if (bubble) {
                assembly {
                    revert(add(result, 32), mload(result))
                }
            }
        }
    }
}
